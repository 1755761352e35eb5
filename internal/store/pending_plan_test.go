package store_test

import (
	"context"
	"slices"
	"testing"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/store"
	"github.com/ekmsync/ekmsync/internal/store/hubtest"
	"github.com/ekmsync/ekmsync/internal/store/storetest"
)

// TestQuantitySQLMatchesRules: the quantity PostgreSQL computes for the pending
// plans is channel.StockRules.Quantity's, over every combination of rules,
// overrides and figures around their edges.
func TestQuantitySQLMatchesRules(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	sql := `WITH figures AS (SELECT $1::bigint AS level, $2::bigint AS reserved, $6::int AS max_listed_override,
		$7::int AS stock_percentage_override, $8::int AS end_when_override) ` + store.QuantitySQL
	levels := []int64{-4, 0, 1, 2, 5, 6, 7, 9, 20, 1000}
	reserved := []int64{0, 1, 3}
	rules := []channel.StockRules{{StockPercentage: 100}, {StockPercentage: 50, EndWhen: 5}, {StockPercentage: 10, MaxListed: 4},
		{StockPercentage: 0}, {StockPercentage: 150, MaxListed: 50, EndWhen: 2}, {StockPercentage: -5}}
	overrides := []channel.Overrides{{}, {MaxListed: hubtest.Ptr(5)}, {StockPercentage: hubtest.Ptr(50)}, {EndWhen: hubtest.Ptr(6)},
		{MaxListed: hubtest.Ptr(0), StockPercentage: hubtest.Ptr(100), EndWhen: hubtest.Ptr(0)}}
	n := 0
	for _, r := range rules {
		for _, o := range overrides {
			for _, lv := range levels {
				for _, res := range reserved {
					var got int64
					var level, reserved, ml, pct, ew, mlo, pcto, ewo any = lv, res, r.MaxListed, r.StockPercentage, r.EndWhen, o.MaxListed, o.StockPercentage, o.EndWhen
					var skipped [10]any // the query's other columns (f.*)
					if err := db.Pool.QueryRow(ctx, sql, level, reserved, ml, pct, ew, mlo, pcto, ewo).Scan(
						&skipped[0], &skipped[1], &skipped[2], &skipped[3], &skipped[4], &got); err != nil {
						t.Fatal(err)
					}
					if want := r.With(o).Quantity(lv, res); got != want {
						t.Fatalf("level %d, reserved %d, rules %+v, overrides %+v: SQL %d, Quantity %d", lv, res, r, o, got, want)
					}
					n++
				}
			}
		}
	}
	t.Logf("%d combinations agree", n)
}

// TestPendingStockAndPricesAreThePlansLinesToSend: PendingStock and PendingPrices
// return exactly the lines of StockPlan and PricePlan whose value differs from
// the confirmed one (never confirmed counts as differing), links included, and
// UrgentStock exactly the Urgent ones of those.
func TestPendingStockAndPricesAreThePlansLinesToSend(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	ch := hubtest.Channel(t, db.Pool, "shop", nil)
	hubtest.StockItem(t, db.Pool, "SAME", map[string]int{"main": 4})
	hubtest.StockItem(t, db.Pool, "DIFF", map[string]int{"main": 9})
	hubtest.StockItem(t, db.Pool, "RES", map[string]int{"main": 4})
	hubtest.StockItem(t, db.Pool, "CAP", map[string]int{"main": 50})
	hubtest.StockItem(t, db.Pool, "ITEM", map[string]int{"main": 3})
	hubtest.StockItem(t, db.Pool, "LOW", map[string]int{"main": 2})
	hubtest.InsertListing(t, db.Pool, hubtest.Listing{ChannelID: ch, ProductID: 1, SKU: "SAME", EKMStock: hubtest.Ptr[int64](4), EKMPrice: hubtest.Ptr(2.5)})
	hubtest.InsertListing(t, db.Pool, hubtest.Listing{ChannelID: ch, ProductID: 2, SKU: "DIFF", EKMStock: hubtest.Ptr[int64](4), EKMPrice: hubtest.Ptr(3.0)})
	hubtest.InsertListing(t, db.Pool, hubtest.Listing{ChannelID: ch, ProductID: 3, VariantID: 31, SKU: "RES", EKMStock: hubtest.Ptr[int64](4)})
	hubtest.InsertListing(t, db.Pool, hubtest.Listing{ChannelID: ch, ProductID: 4, SKU: "CAP", EKMStock: hubtest.Ptr[int64](7), MaxListed: hubtest.Ptr(7)})
	hubtest.InsertListing(t, db.Pool, hubtest.Listing{ChannelID: ch, ProductID: 5, SKU: "NEVER"}) // linked below, never confirmed
	hubtest.InsertListing(t, db.Pool, hubtest.Listing{ChannelID: ch, ProductID: 6, SKU: "LOW", EKMStock: hubtest.Ptr[int64](5)})
	hubtest.InsertOrder(t, db.Pool, hubtest.Order{ChannelID: ch, EKMOrderID: 1, Lines: []hubtest.Line{{SKU: "RES", Quantity: 1}}})
	if _, err := db.Pool.Exec(ctx, `INSERT INTO listing_links (channel_id, product_id, variant_id, stock_sku) VALUES ($1, 5, 0, 'ITEM')`, ch); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `INSERT INTO prices (sku, price) VALUES ('SAME', 2.5), ('DIFF', 3.5), ('ITEM', 1)`); err != nil {
		t.Fatal(err)
	}
	s, err := db.Store.ChannelByID(ctx, ch)
	if err != nil {
		t.Fatal(err)
	}
	stock, err := db.Store.StockPlan(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	pendingStock, err := db.Store.PendingStock(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	checkPending(t, "stock", stock, pendingStock, func(l store.StockLine) bool { return l.Confirmed == nil || *l.Confirmed != l.Desired },
		func(l store.StockLine) string { return l.SKU }, []string{"DIFF", "RES", "ITEM", "LOW"})
	urgent, err := db.Store.UrgentStock(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	checkPending(t, "urgent stock", pendingStock, urgent, store.StockLine.Urgent, func(l store.StockLine) string { return l.SKU }, []string{"LOW"})
	prices, err := db.Store.PricePlan(ctx, ch)
	if err != nil {
		t.Fatal(err)
	}
	pendingPrices, err := db.Store.PendingPrices(ctx, ch)
	if err != nil {
		t.Fatal(err)
	}
	checkPending(t, "price", prices, pendingPrices, func(l store.PriceLine) bool { return l.Confirmed == nil || *l.Confirmed != l.Desired },
		func(l store.PriceLine) string { return l.SKU }, []string{"DIFF", "ITEM"})
}

// checkPending checks that pending is the lines of plan that differs keeps, with
// the SKUs want.
func checkPending[L any](t *testing.T, what string, plan, pending []L, differs func(L) bool, sku func(L) string, want []string) {
	t.Helper()
	var fromPlan []L
	for _, l := range plan {
		if differs(l) {
			fromPlan = append(fromPlan, l)
		}
	}
	var got []string
	for _, l := range pending {
		got = append(got, sku(l))
	}
	if !slices.Equal(got, want) {
		t.Fatalf("pending %s: %v, want %v (plan %+v)", what, got, want, plan)
	}
	if len(fromPlan) != len(pending) {
		t.Fatalf("pending %s: %d lines, the plan has %d that differ", what, len(pending), len(fromPlan))
	}
	for i := range pending {
		if sku(pending[i]) != sku(fromPlan[i]) {
			t.Fatalf("pending %s line %d: %s, the plan's %s", what, i, sku(pending[i]), sku(fromPlan[i]))
		}
	}
}
