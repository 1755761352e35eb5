package store_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ekmsync/ekmsync/internal/store"
	"github.com/ekmsync/ekmsync/internal/store/storetest"
)

// A page with poison orders (NUL and invalid UTF-8 in strings, figures beyond
// the columns' ranges) stores the orders that can be stored, with their strings
// made storable, quarantines the others with the reason, and moves the Order
// Sync Date.
func TestWriteOrderPageSanitisesStringsAndQuarantinesOutOfRangeFigures(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	c := newChannel(t, db.Store, "shop")
	good := store.OrderWrite{Action: store.OrderStore, Order: orderRow(1, true, false, "open"),
		Lines: []store.OrderLineRow{{EKMItemID: 1, SKU: "A", Quantity: 1}}}
	nul := store.OrderWrite{Action: store.OrderStore, Order: orderRow(2, true, false, "open"),
		Lines: []store.OrderLineRow{{EKMItemID: 2, SKU: "B\x00", Name: "Mug\x00 \xff", Quantity: 1,
			Raw: json.RawMessage(`{"item_name":"Mug\u0000"}`)}}}
	nul.Order.CustomerName = "Ann\x00 \xc3"
	nul.Order.Raw = json.RawMessage(`{"id":2,"note":"a\u0000b","big":12345678901234567890}`)
	poison := func(id int64, change func(*store.OrderWrite)) store.OrderWrite {
		w := store.OrderWrite{Action: store.OrderStore, Order: orderRow(id, true, false, "open"),
			Lines: []store.OrderLineRow{{EKMItemID: id, SKU: "C", Quantity: 1}}}
		change(&w)
		return w
	}
	page := store.OrderPage{ChannelID: c.ID, Orders: []store.OrderWrite{
		good, nul,
		poison(3, func(w *store.OrderWrite) { w.Lines[0].Quantity = 1 << 31 }),
		poison(4, func(w *store.OrderWrite) { w.Lines[0].Quantity = -1 }),
		poison(5, func(w *store.OrderWrite) { w.Order.EKM.TotalCost = 1e10 }),
		poison(6, func(w *store.OrderWrite) { w.Lines[0].EKMTaxRate = 1000 }),
	}, Resolved: []int64{1, 2, 3, 4, 5, 6}}
	date := time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC)
	page.SyncDate = &date
	out, err := db.Store.WriteOrderPage(ctx, page)
	if err != nil {
		t.Fatal(err)
	}
	if !out[0].Inserted || !out[1].Inserted {
		t.Fatalf("the good and the sanitised orders were not stored: %+v", out)
	}
	for i, want := range map[int]string{2: "quantity 2147483648", 3: "quantity -1", 4: "total_cost 1e+10", 5: "item_tax_rate 1000"} {
		if out[i].Inserted || !strings.Contains(out[i].Quarantined, want) {
			t.Fatalf("order %d: outcome %+v, want quarantined for %q", i+1, out[i], want)
		}
	}
	var name, customer, raw, lineRaw string
	if err := db.Pool.QueryRow(ctx, `SELECT l.name, o.customer_name, o.raw::text, l.raw::text FROM orders o
		JOIN order_lines l ON l.order_id = o.id WHERE o.ekm_order_id = 2`).Scan(&name, &customer, &raw, &lineRaw); err != nil {
		t.Fatal(err)
	}
	if name != "Mug\uFFFD \uFFFD" || customer != "Ann\uFFFD \uFFFD" || !strings.Contains(raw, "a\uFFFDb") ||
		!strings.Contains(raw, "12345678901234567890") || !strings.Contains(lineRaw, "Mug\uFFFD") {
		t.Fatalf("stored name %q, customer %q, raw %s, line raw %s", name, customer, raw, lineRaw)
	}
	problems, err := db.Store.OrderProblems(ctx, c.ID)
	if err != nil || len(problems) != 4 {
		t.Fatalf("problems = %+v, %v; want the 4 quarantined orders", problems, err)
	}
	st, err := db.Store.OrderSync(ctx, c.ID)
	if err != nil || st.SyncDate == nil || !st.SyncDate.Equal(date) {
		t.Fatalf("Order Sync Date = %v, %v; want %v", st.SyncDate, err, date)
	}
}

// A data error the checks do not foresee (here a currency the schema's CHECK
// refuses) makes the page be written order by order: only the failing order is
// quarantined, with PostgreSQL's message, and the rest lands with the Order Sync
// Date. Once the order reads fine, writing it stores it and resolves the problem.
func TestWriteOrderPageFallsBackToOrderByOrderOnADataError(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	c := newChannel(t, db.Store, "shop")
	bad := orderRow(2, true, false, "open")
	bad.Currency = "pounds"
	lines := []store.OrderLineRow{{EKMItemID: 1, SKU: "A", Quantity: 1}}
	date := time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC)
	out, err := db.Store.WriteOrderPage(ctx, store.OrderPage{ChannelID: c.ID, SyncDate: &date, Resolved: []int64{1, 2, 3},
		Orders: []store.OrderWrite{
			{Action: store.OrderStore, Order: orderRow(1, true, false, "open"), Lines: lines},
			{Action: store.OrderStore, Order: bad, Lines: lines},
			{Action: store.OrderStore, Order: orderRow(3, true, false, "open"), Lines: lines},
		}})
	if err != nil {
		t.Fatal(err)
	}
	if !out[0].Inserted || !out[2].Inserted || out[1].Inserted || !strings.Contains(out[1].Quarantined, "SQLSTATE 23514") {
		t.Fatalf("outcomes = %+v", out)
	}
	problems, err := db.Store.OrderProblems(ctx, c.ID)
	if err != nil || len(problems) != 1 || problems[0].Key != "2" || !strings.Contains(problems[0].Reason, "check constraint") {
		t.Fatalf("problems = %+v, %v", problems, err)
	}
	if st, _ := db.Store.OrderSync(ctx, c.ID); st.SyncDate == nil || !st.SyncDate.Equal(date) {
		t.Fatalf("Order Sync Date = %v, want %v", st.SyncDate, date)
	}
	var n int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM orders`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("%d orders stored (%v), want 2", n, err)
	}
	// Fixed on EKM: read again, it lands and the problem is resolved.
	out, err = db.Store.WriteOrderPage(ctx, store.OrderPage{ChannelID: c.ID, Resolved: []int64{2},
		Orders: []store.OrderWrite{{Action: store.OrderStore, Order: orderRow(2, true, false, "open"), Lines: lines}}})
	if err != nil || !out[0].Inserted {
		t.Fatalf("after the fix: %+v, %v", out, err)
	}
	if problems, _ = db.Store.OrderProblems(ctx, c.ID); len(problems) != 0 {
		t.Fatalf("problems after the fix = %+v", problems)
	}
}

// A sync result quoting EKM text with a NUL (a status in a reason) is recorded,
// made storable: jsonb refuses \u0000, and a refused result would fail every sync.
func TestFinishOrderSyncRunStoresAResultQuotingANul(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	c := newChannel(t, db.Store, "shop")
	result := map[string]any{"problems": []map[string]string{{"reason": "status WEIRD\x00 is not one of the shop's"}}}
	if err := db.Store.FinishOrderSyncRun(ctx, c.ID, nil, result); err != nil {
		t.Fatal(err)
	}
	st, err := db.Store.OrderSync(ctx, c.ID)
	if err != nil || !strings.Contains(mustJSON(t, st.LastResult), `WEIRD\ufffd`) && !strings.Contains(mustJSON(t, st.LastResult), "WEIRD\uFFFD") {
		t.Fatalf("last result = %v, %v", st.LastResult, err)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
