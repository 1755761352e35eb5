package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/ekmsync/ekmsync/internal/store"
	"github.com/ekmsync/ekmsync/internal/store/hubtest"
	"github.com/ekmsync/ekmsync/internal/store/storetest"
)

// stockLine is a pending line of product id with the hub's level (nothing
// reserved), the quantity to send and what EKM confirmed (nil: unknown), changed
// at minute changed.
func stockLine(id, level, desired int64, confirmed *int64, changed int) store.StockLine {
	at := time.Date(2026, 11, 27, 9, changed, 0, 0, time.UTC)
	return store.StockLine{ListingKey: store.ListingKey{ProductID: id}, Level: level, Desired: desired, Confirmed: confirmed, Changed: &at}
}

func ids(lines []store.StockLine) []int64 {
	var out []int64
	for _, l := range lines {
		out = append(out, l.ProductID)
	}
	return out
}

// TestSortStockPlanSendsLowFirst: decreases to at most NearZero available go
// first, lowest first; then other decreases, lowest first; increases last; ties
// in arrival order. StockArrival keeps arrival order only.
func TestSortStockPlanSendsLowFirst(t *testing.T) {
	p := hubtest.Ptr[int64]
	plan := []store.StockLine{
		stockLine(1, 40, 40, p(45), 0), // a decrease, far from zero, came first
		stockLine(2, 9, 9, p(3), 1),    // an increase
		stockLine(3, 2, 2, p(5), 2),    // down to 2: near zero
		stockLine(4, 0, 0, p(1), 3),    // down to 0
		stockLine(5, 1, 1, nil, 4),     // EKM's figure unknown: may show more
		stockLine(6, 3, 3, p(4), 5),    // down to 3: just above near zero
		stockLine(7, 0, 0, p(0), 6),    // pending for another reason (a rejected value's retry): not a decrease
		stockLine(8, 0, 0, p(2), 2),    // down to 0, came before 4
	}
	lowFirst := slices.Clone(plan)
	store.SortStockPlan(lowFirst, store.StockLowFirst)
	if got, want := ids(lowFirst), []int64{8, 4, 5, 3, 6, 1, 7, 2}; !slices.Equal(got, want) {
		t.Errorf("low first: %v, want %v", got, want)
	}
	arrival := slices.Clone(plan)
	slices.Reverse(arrival)
	store.SortStockPlan(arrival, store.StockArrival)
	if got, want := ids(arrival), []int64{1, 2, 3, 8, 4, 5, 6, 7}; !slices.Equal(got, want) {
		t.Errorf("arrival order: %v, want %v", got, want)
	}
}

// TestSortStockPlanReservationsLowerAvailable: available is the level less what
// open orders reserve, so a SKU with stock on the shelf but all of it sold goes
// first.
func TestSortStockPlanReservationsLowerAvailable(t *testing.T) {
	p := hubtest.Ptr[int64]
	sold := stockLine(1, 30, 1, p(30), 1)
	sold.Reserved = 29
	shelf := stockLine(2, 20, 20, p(25), 0)
	plan := []store.StockLine{shelf, sold}
	store.SortStockPlan(plan, store.StockLowFirst)
	if got := ids(plan); !slices.Equal(got, []int64{1, 2}) {
		t.Errorf("low first: %v, want the SKU with 1 available first", got)
	}
}

// TestStockPlanCoalescesAndStockChangesFindsTheFirstChange: however often a SKU
// changes before a pass, the plan holds one line with its latest quantity (one
// send); StockChanges finds when the first change after the listing's last send
// came, which is the arrival order.
func TestStockPlanCoalescesAndStockChangesFindsTheFirstChange(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	ch := hubtest.Channel(t, db.Pool, "shop", nil)
	hubtest.StockItem(t, db.Pool, "A", map[string]int{"default": 10})
	hubtest.StockItem(t, db.Pool, "B", map[string]int{"default": 10})
	hubtest.StockItem(t, db.Pool, "C", map[string]int{"default": 10})
	for i, sku := range []string{"A", "B", "C"} {
		hubtest.InsertListing(t, db.Pool, hubtest.Listing{ChannelID: ch, ProductID: int64(i + 1), SKU: sku, EKMStock: hubtest.Ptr[int64](10)})
	}
	// B was sent an hour ago; everything after that is a change.
	sent := time.Now().Add(-time.Hour)
	if err := db.Store.RecordStockSend(ctx, store.ListingSend{ChannelID: ch, ListingKey: store.ListingKey{ProductID: 2}, Sent: 10,
		Confirmed: hubtest.Ptr[int64](10), At: sent}, store.AuditEntry{Actor: "test", Action: "ekm.stock"}); err != nil {
		t.Fatal(err)
	}
	order := func(ekmID int64, sku string, at time.Time) {
		t.Helper()
		id := hubtest.InsertOrder(t, db.Pool, hubtest.Order{ChannelID: ch, EKMOrderID: ekmID, Lines: []hubtest.Line{{SKU: sku, Quantity: 1}}})
		if _, err := db.Pool.Exec(ctx, `UPDATE orders SET downloaded_at = $2 WHERE id = $1`, id, at); err != nil {
			t.Fatal(err)
		}
	}
	t0 := time.Now().Add(-30 * time.Minute).Truncate(time.Microsecond)
	order(1, "A", t0.Add(2*time.Minute)) // A: three orders, the first at +2
	order(2, "A", t0.Add(5*time.Minute))
	order(3, "A", t0.Add(9*time.Minute))
	order(4, "B", sent.Add(-time.Minute)) // B: one order before its send (already confirmed then), one after
	order(5, "B", t0.Add(time.Minute))
	// C: only its level changed.
	if _, err := db.Store.SetStockLevel(ctx, "C", "", 4, "test"); err != nil {
		t.Fatal(err)
	}
	s, err := db.Store.ChannelByID(ctx, ch)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := db.Store.StockPlan(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan) != 3 || plan[0].Desired != 7 || plan[1].Desired != 8 || plan[2].Desired != 4 {
		t.Fatalf("plan %+v; want one line per listing with its latest quantity: A 7, B 8, C 4", plan)
	}
	if err := db.Store.StockChanges(ctx, plan); err != nil {
		t.Fatal(err)
	}
	if a := plan[0].Changed; a == nil || !a.Equal(t0.Add(2*time.Minute)) {
		t.Errorf("A changed %v, want its first order's download %v", a, t0.Add(2*time.Minute))
	}
	if b := plan[1].Changed; b == nil || !b.Equal(t0.Add(time.Minute)) {
		t.Errorf("B changed %v, want the download of its order after its last send %v", b, t0.Add(time.Minute))
	}
	if c := plan[2].Changed; c == nil || c.Before(t0) {
		t.Errorf("C changed %v, want its level's update", c)
	}
	store.SortStockPlan(plan, store.StockArrival)
	if got := ids(plan); !slices.Equal(got, []int64{2, 1, 3}) {
		t.Errorf("arrival order %v, want B (+1), A (+2), C (now)", got)
	}
}
