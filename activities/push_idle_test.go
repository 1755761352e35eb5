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

// The push check says a pass would be idle only while nothing waits: a stock
// level EKM does not show, a despatch, a shadow channel's plan make it busy.
func TestPushCheckIsIdleOnlyWhileNothingWaits(t *testing.T) {
	ls := newListingShop(t, 5)
	ctx := context.Background()
	in := activities.PushInput{Channel: "shop"}
	idle := func(want bool, when string) {
		t.Helper()
		res, err := ls.acts.PushCheck(ctx, in)
		if err != nil || !res.Runnable || res.Idle != want {
			t.Fatalf("%s: check %+v, %v; want runnable and idle %v", when, res, err, want)
		}
	}
	idle(true, "no stock item, no order")

	p := plainProducts(ls)[0]
	hubtest.InsertListing(t, ls.db.Pool, hubtest.Listing{ChannelID: ls.ch.ID, ProductID: p.ID, SKU: p.ProductCode, EKMStock: hubtest.Ptr[int64](10)})
	hubtest.StockItem(t, ls.db.Pool, p.ProductCode, map[string]int{"main": 7})
	idle(false, "a level of 7 where EKM shows 10")
	if _, err := ls.db.Pool.Exec(ctx, `UPDATE stock_levels SET level = 10 WHERE sku = $1`, p.ProductCode); err != nil {
		t.Fatal(err)
	}
	idle(true, "the level EKM shows")

	despatchable(t, ls)
	o := ls.sim.CreateOrder(ekmsim.OrderSpec{Status: "PENDING", Lines: []ekmsim.LineSpec{{ProductCode: "ELSEWHERE", Quantity: 1}}})
	hubID := hubtest.InsertOrder(t, ls.db.Pool, hubtest.Order{ChannelID: ls.ch.ID, EKMOrderID: o.ID, Lines: []hubtest.Line{{SKU: "ELSEWHERE", Quantity: 1}}})
	if _, err := ls.db.Store.ShipOrder(ctx, store.OrderRef{ID: hubID}, []store.Parcel{{TrackingNumber: "RM1"}}, "test"); err != nil {
		t.Fatal(err)
	}
	idle(false, "a shipped order")
	if _, err := ls.acts.PushDespatches(ctx, in); err != nil {
		t.Fatal(err)
	}
	idle(true, "the despatch sent")

	if _, _, err := ls.db.Store.UpdateChannel(ctx, "shop", "test", func(cur channel.Settings) (channel.Settings, []channel.AppliedChange, error) {
		cur.Shadow = true
		return cur, []channel.AppliedChange{{Key: "mode", Old: "live", New: "shadow"}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	idle(false, "a shadow channel")
}
