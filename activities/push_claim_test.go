package activities_test

import (
	"context"
	"testing"

	"github.com/ekmsync/ekmsync/activities"
	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/ekmsim"
	"github.com/ekmsync/ekmsync/internal/store"
	"github.com/ekmsync/ekmsync/internal/store/hubtest"
)

// An attempt of the despatch push that Temporal gave up on may still be waiting
// for EKM's answer when the next attempt starts. Whichever write's answer the
// shop holds, the next attempt leaves the order to the first (it holds the row's
// claim), and once the first is released exactly one tracking write and one
// status write (one dispatch e-mail) have reached the shop.
func TestOverlappingDespatchAttemptsSendEachWriteOnce(t *testing.T) {
	for _, held := range []string{ekmsim.KindOrderTracking, ekmsim.KindOrderStatus} {
		t.Run(held, func(t *testing.T) {
			ls := newListingShop(t, 2)
			ctx := context.Background()
			despatchable(t, ls)
			sku := ls.sim.Products()[0].ProductCode
			o := ls.sim.CreateOrder(ekmsim.OrderSpec{Status: "PENDING", Lines: []ekmsim.LineSpec{{ProductCode: sku, Quantity: 1}}})
			hubID := hubtest.InsertOrder(t, ls.db.Pool, hubtest.Order{ChannelID: ls.ch.ID, EKMOrderID: o.ID, Lines: []hubtest.Line{{SKU: sku, Quantity: 1}}})
			if _, err := ls.db.Store.ShipOrder(ctx, store.OrderRef{ID: hubID}, []store.Parcel{{TrackingNumber: "RM1", Carrier: "Royal Mail"}}, "test"); err != nil {
				t.Fatal(err)
			}
			in := activities.PushInput{Channel: "shop"}

			hold := ls.sim.HoldNextWrite(held)
			t.Cleanup(hold.Release)
			type outcome struct {
				res activities.StepResult
				err error
			}
			first := make(chan outcome, 1)
			go func() {
				res, err := ls.acts.PushDespatches(ctx, in)
				first <- outcome{res, err}
			}()
			select {
			case <-hold.Reached():
			case o := <-first:
				t.Fatalf("the first attempt ended (%+v, %v) before its %s write was held", o.res, o.err, held)
			}
			second, err := ls.acts.PushDespatches(ctx, in)
			if err != nil || second.Busy != 1 || second.Sent != 0 || second.Already != 0 {
				t.Fatalf("the overlapping attempt: %+v, %v; want the order left to the first (1 busy)", second, err)
			}
			hold.Release()
			got := <-first
			if got.err != nil || got.res.Sent != 1 {
				t.Fatalf("the first attempt: %+v, %v; want the despatch sent", got.res, got.err)
			}
			third, err := ls.acts.PushDespatches(ctx, in)
			if err != nil || third != (activities.StepResult{}) {
				t.Fatalf("an attempt after both: %+v, %v; want nothing left to do", third, err)
			}
			f := ekmsim.WriteFilter{OrderID: o.ID}
			f.Kind = ekmsim.KindOrderStatus
			status := ls.sim.Writes(f)
			f.Kind = ekmsim.KindOrderTracking
			tracking := ls.sim.Writes(f)
			if len(status) != 1 || len(tracking) != 1 {
				t.Fatalf("the shop received %d status and %d tracking writes, want one each", len(status), len(tracking))
			}
			var claimed *string
			if err := ls.db.Pool.QueryRow(ctx, `SELECT claimed_by FROM order_outbound WHERE order_id = $1`, hubID).Scan(&claimed); err != nil || claimed != nil {
				t.Errorf("claim after the work = %v (%v), want released", claimed, err)
			}
		})
	}
}

// A claim whose attempt died (its lease passed unrenewed) does not keep the order
// from the next attempt.
func TestDespatchTakesOverAnExpiredClaim(t *testing.T) {
	ls := newListingShop(t, 2)
	ctx := context.Background()
	despatchable(t, ls)
	sku := ls.sim.Products()[0].ProductCode
	o := ls.sim.CreateOrder(ekmsim.OrderSpec{Status: "PENDING", Lines: []ekmsim.LineSpec{{ProductCode: sku, Quantity: 1}}})
	hubID := hubtest.InsertOrder(t, ls.db.Pool, hubtest.Order{ChannelID: ls.ch.ID, EKMOrderID: o.ID, Lines: []hubtest.Line{{SKU: sku, Quantity: 1}}})
	if _, err := ls.db.Store.ShipOrder(ctx, store.OrderRef{ID: hubID}, []store.Parcel{{TrackingNumber: "RM1"}}, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := ls.db.Pool.Exec(ctx, `UPDATE order_outbound SET claimed_by = 'dead', claimed_until = now() - interval '1 second' WHERE order_id = $1`, hubID); err != nil {
		t.Fatal(err)
	}
	res, err := ls.acts.PushDespatches(ctx, activities.PushInput{Channel: "shop"})
	if err != nil || res.Sent != 1 || res.Busy != 0 {
		t.Fatalf("push over an expired claim: %+v, %v; want the despatch sent", res, err)
	}
}

// despatchable turns Despatch Notes on and maps the shop's DISPATCHED to Shipped.
func despatchable(t *testing.T, ls *listingShop) {
	t.Helper()
	if _, _, err := ls.db.Store.UpdateChannel(context.Background(), "shop", "test", func(cur channel.Settings) (channel.Settings, []channel.AppliedChange, error) {
		cur.DespatchNotes, cur.ShopStatuses = true, []string{"PENDING", "DISPATCHED"}
		cur.Mapping = channel.Mapping{"DISPATCHED": channel.Shipped}
		return cur, []channel.AppliedChange{{Key: "status:DISPATCHED", Old: "Unmapped", New: "Shipped"}}, nil
	}); err != nil {
		t.Fatal(err)
	}
}

// A batch of despatches reads EKM's state of its orders with one order search,
// not a GET each, and sends each order only the writes it needs: no tracking
// write without a tracking number, nothing to an order EKM already shows
// dispatched.
func TestDespatchesReadTheirOrdersWithOneSearch(t *testing.T) {
	ls := newListingShop(t, 2)
	ctx := context.Background()
	despatchable(t, ls)
	sku := ls.sim.Products()[0].ProductCode
	for i, tc := range []struct{ status, tracking string }{
		{"PENDING", "RM1"}, {"PENDING", "RM2"}, {"PENDING", ""}, {"DISPATCHED", "RM4"}, {"PENDING", "RM5"},
	} {
		o := ls.sim.CreateOrder(ekmsim.OrderSpec{Status: tc.status, Lines: []ekmsim.LineSpec{{ProductCode: sku, Quantity: 1}}})
		hubID := hubtest.InsertOrder(t, ls.db.Pool, hubtest.Order{ChannelID: ls.ch.ID, EKMOrderID: o.ID, Lines: []hubtest.Line{{SKU: sku, Quantity: 1}}})
		if _, err := ls.db.Store.ShipOrder(ctx, store.OrderRef{ID: hubID}, []store.Parcel{{TrackingNumber: tc.tracking}}, "test"); err != nil {
			t.Fatalf("order %d: %v", i, err)
		}
	}
	before := ls.sim.RequestStats().ByRoute
	res, err := ls.acts.PushDespatches(ctx, activities.PushInput{Channel: "shop"})
	if err != nil || res.Sent != 4 || res.Already != 1 {
		t.Fatalf("push: %+v, %v; want 4 sent, 1 already dispatched on EKM", res, err)
	}
	after := ls.sim.RequestStats().ByRoute
	for route, want := range map[string]int{
		"GET /api/v2/orders/search":                1,
		"GET /api/v2/orders/{id}":                  0,
		"PUT /api/v2/orders/{id}/deliveryTracking": 3,
		"PUT /api/v2/orders/{id}/status":           4,
	} {
		if got := after[route] - before[route]; got != want {
			t.Errorf("%s: %d requests, want %d", route, got, want)
		}
	}
}
