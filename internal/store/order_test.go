package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/ekmsync/ekmsync/internal/store"
	"github.com/ekmsync/ekmsync/internal/store/storetest"
)

func orderRow(id int64, paid, parked bool, status string) store.OrderRow {
	return store.OrderRow{EKMOrderID: id, OrderNumber: "N-1", OrderDate: time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC),
		EKMStatus: "PROCESSING", Paid: paid, Parked: parked, Status: status, Currency: "GBP", TaxSource: "ekm",
		Raw: []byte(`{"id":1}`)}
}

func TestWriteOrderPageIsIdempotentAndNeverDowngrades(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	c := newChannel(t, db.Store, "shop")
	lines := []store.OrderLineRow{{EKMItemID: 1, SKU: "A", Quantity: 2}, {EKMItemID: 2, SKU: "B", Quantity: 1}}
	page := store.OrderPage{ChannelID: c.ID, Orders: []store.OrderWrite{
		{Action: store.OrderStore, Order: orderRow(1, false, true, "open"), Lines: lines},
		{Action: store.OrderStore, Order: orderRow(2, true, false, "open"), Lines: lines[:1]},
	}}
	out, err := db.Store.WriteOrderPage(ctx, page)
	if err != nil || !out[0].Inserted || !out[1].Inserted {
		t.Fatalf("first write: %+v, %v", out, err)
	}
	if out, err = db.Store.WriteOrderPage(ctx, page); err != nil || out[0] != (store.WriteOutcome{}) || out[1] != (store.WriteOutcome{}) {
		t.Fatalf("repeated write: %+v, %v", out, err)
	}
	reserved, err := db.Store.ReservedBySKU(ctx)
	if err != nil || reserved["A"] != 4 || reserved["B"] != 1 {
		t.Fatalf("reserved = %v, %v", reserved, err)
	}
	// Order 1 is paid now; order 2 reads unpaid (never downgraded), then is cancelled on EKM.
	paid := orderRow(1, true, false, "open")
	paid.Raw = []byte(`{"id":1,"payment_status":"SUCCESS"}`)
	unpaid := orderRow(2, false, false, "")
	unpaid.Raw = []byte(`{"id":2,"x":1}`)
	out, err = db.Store.WriteOrderPage(ctx, store.OrderPage{ChannelID: c.ID, Orders: []store.OrderWrite{
		{Action: store.OrderStore, Order: paid}, {Action: store.OrderCancel, Order: unpaid}}})
	if err != nil || !out[0].Changed || !out[1].Changed {
		t.Fatalf("update: %+v, %v", out, err)
	}
	hub, err := db.Store.HubOrders(ctx, c.ID, []int64{1, 2})
	if err != nil {
		t.Fatal(err)
	}
	if h := hub[1]; !h.Paid || h.Parked || h.Status != "open" {
		t.Fatalf("order 1 = %+v", h)
	}
	if h := hub[2]; !h.Paid || h.Status != "cancelled" {
		t.Fatalf("order 2 = %+v", h)
	}
	var nLines int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM order_lines`).Scan(&nLines); err != nil || nLines != 3 {
		t.Fatalf("%d lines (%v), want 3", nLines, err)
	}
	reserved, _ = db.Store.ReservedBySKU(ctx)
	if reserved["A"] != 2 || reserved["B"] != 1 {
		t.Fatalf("reserved after the cancellation = %v", reserved)
	}
	// A cancelled hub order is not reopened, nor marked shipped.
	if _, err := db.Store.WriteOrderPage(ctx, store.OrderPage{ChannelID: c.ID, Orders: []store.OrderWrite{{Action: store.OrderShip, Order: unpaid}}}); err != nil {
		t.Fatal(err)
	}
	if hub, _ = db.Store.HubOrders(ctx, c.ID, []int64{2}); hub[2].Status != "cancelled" {
		t.Fatalf("order 2 after a ship = %+v", hub[2])
	}
}

func TestOrderSyncDateMovesOnlyForwardWithItsPage(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	c := newChannel(t, db.Store, "shop")
	later := time.Date(2024, 3, 2, 0, 0, 0, 0, time.UTC)
	earlier := later.Add(-time.Hour)
	for _, d := range []time.Time{later, earlier} {
		if _, err := db.Store.WriteOrderPage(ctx, store.OrderPage{ChannelID: c.ID, SyncDate: &d}); err != nil {
			t.Fatal(err)
		}
	}
	st, err := db.Store.OrderSync(ctx, c.ID)
	if err != nil || st.SyncDate == nil || !st.SyncDate.Equal(later) {
		t.Fatalf("sync date = %v, %v", st.SyncDate, err)
	}
	// A page that fails to commit (here its connection is gone) leaves the
	// date where it was. (An order the schema refuses does not fail its page:
	// see TestWriteOrderPageFallsBackToOrderByOrderOnADataError.)
	bad := later.Add(time.Hour)
	gone, cancel := context.WithCancel(ctx)
	cancel()
	_, err = db.Store.WriteOrderPage(gone, store.OrderPage{ChannelID: c.ID, SyncDate: &bad,
		Orders: []store.OrderWrite{{Action: store.OrderStore, Order: orderRow(9, true, false, "open")}}})
	if err == nil {
		t.Fatal("a page committed without its connection")
	}
	if st, _ = db.Store.OrderSync(ctx, c.ID); !st.SyncDate.Equal(later) {
		t.Fatalf("sync date after a failed page = %v", st.SyncDate)
	}
}

func TestRecheckIDsAndProblems(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	c := newChannel(t, db.Store, "shop")
	now := time.Now()
	id7 := int64(7)
	_, err := db.Store.WriteOrderPage(ctx, store.OrderPage{ChannelID: c.ID,
		Orders:   []store.OrderWrite{{Action: store.OrderStore, Order: orderRow(1, false, true, "open"), Lines: []store.OrderLineRow{}}},
		Watch:    []store.WatchEntry{{EKMOrderID: 5, OrderDate: now, Reason: "unpaid"}, {EKMOrderID: 6, OrderDate: now.Add(-30 * 24 * time.Hour), Reason: "old"}},
		Problems: []store.OrderProblem{{Key: "7", EKMOrderID: &id7, Reason: "bad date", Raw: "{}"}, {Key: "sha256:ab", Reason: "no id", Raw: "x"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ids, err := db.Store.RecheckIDs(ctx, c.ID, now.Add(-7*24*time.Hour))
	if err != nil || len(ids) != 3 || ids[0] != 1 || ids[1] != 5 || ids[2] != 7 {
		t.Fatalf("recheck = %v, %v", ids, err)
	}
	if _, err := db.Store.WriteOrderPage(ctx, store.OrderPage{ChannelID: c.ID, Resolved: []int64{7}, Unwatch: []int64{5}}); err != nil {
		t.Fatal(err)
	}
	problems, err := db.Store.OrderProblems(ctx, c.ID)
	if err != nil || len(problems) != 1 || problems[0].Key != "sha256:ab" {
		t.Fatalf("problems = %+v, %v", problems, err)
	}
	if ids, _ = db.Store.RecheckIDs(ctx, c.ID, now.Add(-7*24*time.Hour)); len(ids) != 1 || ids[0] != 1 {
		t.Fatalf("recheck after resolving = %v", ids)
	}
}

// A parked (unpaid) order that EKM cancels or ships is no longer parked, and stops
// being re-checked by id on every sync.
func TestParkedOrderCancelledOnEKMIsUnparkedAndNoLongerRechecked(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	c := newChannel(t, db.Store, "shop")
	if _, err := db.Store.WriteOrderPage(ctx, store.OrderPage{ChannelID: c.ID, Orders: []store.OrderWrite{
		{Action: store.OrderStore, Order: orderRow(7, false, true, "open")},
		{Action: store.OrderStore, Order: orderRow(8, false, true, "open")},
	}}); err != nil {
		t.Fatal(err)
	}
	ids, err := db.Store.RecheckIDs(ctx, c.ID, time.Now().Add(-time.Hour))
	if err != nil || len(ids) != 2 {
		t.Fatalf("re-checked before = %v, %v", ids, err)
	}
	cancelled := orderRow(7, false, false, "")
	cancelled.Raw = []byte(`{"id":7,"status":"FAILED"}`)
	if _, err := db.Store.WriteOrderPage(ctx, store.OrderPage{ChannelID: c.ID, Orders: []store.OrderWrite{{Action: store.OrderCancel, Order: cancelled}}}); err != nil {
		t.Fatal(err)
	}
	hub, _ := db.Store.HubOrders(ctx, c.ID, []int64{7})
	if h := hub[7]; h.Parked || h.Status != "cancelled" {
		t.Fatalf("order 7 after EKM cancelled it = %+v", h)
	}
	// Order 8 is cancelled by the hub itself: it is not re-read either.
	if _, err := db.Pool.Exec(ctx, `UPDATE orders SET status = 'cancelled', cancelled_by = 'hub' WHERE ekm_order_id = 8`); err != nil {
		t.Fatal(err)
	}
	if ids, _ = db.Store.RecheckIDs(ctx, c.ID, time.Now().Add(-time.Hour)); len(ids) != 0 {
		t.Fatalf("still re-checked: %v", ids)
	}
}
