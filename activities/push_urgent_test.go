package activities_test

import (
	"context"
	"testing"
	"time"

	"github.com/ekmsync/ekmsync/activities"
	"github.com/ekmsync/ekmsync/internal/ekm"
	"github.com/ekmsync/ekmsync/internal/ekmsim"
	"github.com/ekmsync/ekmsync/internal/store"
	"github.com/ekmsync/ekmsync/internal/store/hubtest"
)

// A despatch step that stops with despatches left reports more work and sends
// the stock coming down to a SKU at or near zero, and only that stock, between
// its groups of despatches; a step that finishes the backlog, even a batch of
// exactly the step's size, reports no more work.
func TestDespatchBacklogLetsUrgentStockGoAndReportsMoreOnlyWhenRowsAreLeft(t *testing.T) {
	ls := newListingShop(t, 8)
	ctx := context.Background()
	despatchable(t, ls)
	var products []int64
	var skus []string
	for _, p := range plainProducts(ls) {
		products, skus = append(products, p.ID), append(skus, p.ProductCode)
	}
	if len(products) < 2 {
		t.Fatalf("the shop has %d products without variants, want 2", len(products))
	}
	// The first SKU comes down to 1 (urgent), the second to 10 (not urgent).
	hubtest.StockItem(t, ls.db.Pool, skus[0], map[string]int{"main": 1})
	hubtest.StockItem(t, ls.db.Pool, skus[1], map[string]int{"main": 10})
	for i := range 2 {
		hubtest.InsertListing(t, ls.db.Pool, hubtest.Listing{ChannelID: ls.ch.ID, ProductID: products[i], SKU: skus[i], EKMStock: hubtest.Ptr[int64](20)})
	}
	const orders = 51 // one more than a step's batch
	ship := func(n int) {
		t.Helper()
		for range n {
			// Lines of a SKU no listing has: the orders reserve nothing listed.
			o := ls.sim.CreateOrder(ekmsim.OrderSpec{Status: "PENDING", Lines: []ekmsim.LineSpec{{ProductCode: skus[1], Quantity: 1}}})
			hubID := hubtest.InsertOrder(t, ls.db.Pool, hubtest.Order{ChannelID: ls.ch.ID, EKMOrderID: o.ID, Lines: []hubtest.Line{{SKU: "ELSEWHERE", Quantity: 1}}})
			if _, err := ls.db.Store.ShipOrder(ctx, store.OrderRef{ID: hubID}, []store.Parcel{{TrackingNumber: "RM1"}}, "test"); err != nil {
				t.Fatal(err)
			}
		}
	}
	ship(orders)
	stock := func(id int64) int64 {
		p, _ := ls.sim.Product(id)
		return p.NumberInStock
	}
	before := stock(products[1])
	in := activities.PushInput{Channel: "shop"}
	first, err := ls.acts.PushDespatches(ctx, in)
	if err != nil || first.Sent != orders-1 || !first.More || first.UrgentStock != 1 {
		t.Fatalf("the first step: %+v, %v; want %d sent, more, and the urgent stock sent", first, err, orders-1)
	}
	if got, other := stock(products[0]), stock(products[1]); got != 1 || other != before {
		t.Fatalf("EKM shows %d of the urgent SKU and %d of the other, want 1 and still %d (the stock step's)", got, other, before)
	}
	// It went out between the step's groups of despatches, not after them all.
	stockWrites := ls.sim.Writes(ekmsim.WriteFilter{Kind: ekmsim.KindProductStock})
	despatchedFirst := 0
	for _, w := range ls.sim.Writes(ekmsim.WriteFilter{Kind: ekmsim.KindOrderStatus}) {
		if len(stockWrites) > 0 && w.Time.Before(stockWrites[0].Time) {
			despatchedFirst++
		}
	}
	if len(stockWrites) != 1 || despatchedFirst >= orders-1 {
		t.Fatalf("%d stock writes, the first after %d of the step's %d despatches; want one, between its groups", len(stockWrites), despatchedFirst, orders-1)
	}
	second, err := ls.acts.PushDespatches(ctx, in)
	if err != nil || second.Sent != 1 || second.More || second.UrgentStock != 0 {
		t.Fatalf("the second step: %+v, %v; want the last despatch sent and no more work", second, err)
	}
	ship(orders - 1) // exactly a batch: all done, none left
	third, err := ls.acts.PushDespatches(ctx, in)
	if err != nil || third.Sent != orders-1 || third.More {
		t.Fatalf("a step of exactly a batch: %+v, %v; want %d sent and no more work", third, err, orders-1)
	}
}

// A stock step that has sent for a while stops, with more work left, once a
// despatch waits, so that the next pass starts with it.
func TestStockStepYieldsToAWaitingDespatch(t *testing.T) {
	ls := newListingShop(t, 40)
	ctx := context.Background()
	despatchable(t, ls)
	lines := 0
	for _, p := range plainProducts(ls) {
		hubtest.StockItem(t, ls.db.Pool, p.ProductCode, map[string]int{"main": 50})
		hubtest.InsertListing(t, ls.db.Pool, hubtest.Listing{ChannelID: ls.ch.ID, ProductID: p.ID, SKU: p.ProductCode, EKMStock: hubtest.Ptr[int64](10)})
		lines++
	}
	o := ls.sim.CreateOrder(ekmsim.OrderSpec{Status: "PENDING", Lines: []ekmsim.LineSpec{{ProductCode: ls.sim.Products()[0].ProductCode, Quantity: 1}}})
	hubID := hubtest.InsertOrder(t, ls.db.Pool, hubtest.Order{ChannelID: ls.ch.ID, EKMOrderID: o.ID, Lines: []hubtest.Line{{SKU: "ELSEWHERE", Quantity: 1}}})
	if _, err := ls.db.Store.ShipOrder(ctx, store.OrderRef{ID: hubID}, []store.Parcel{{TrackingNumber: "RM1"}}, "test"); err != nil {
		t.Fatal(err)
	}
	// Each send takes 300 ms: four at a time, the step passes yieldAfter (1 s)
	// long before its lines are done.
	ls.sim.SetFaults(ekmsim.Faults{Latency: 1, LatencyDuration: 300 * time.Millisecond})
	res, err := ls.acts.PushStock(ctx, activities.PushInput{Channel: "shop"})
	if err != nil || !res.More || res.Sent == 0 || res.Sent >= lines {
		t.Fatalf("the stock step with a despatch waiting: %+v, %v; want some of the %d lines sent and more work left", res, err, lines)
	}
}

// plainProducts are the shop's products without variants whose SKU is their own.
func plainProducts(ls *listingShop) []ekm.Product {
	codes := map[string]int{}
	for _, p := range ls.sim.Products() {
		codes[p.ProductCode]++
	}
	var out []ekm.Product
	for _, p := range ls.sim.Products() {
		if len(p.Variants) == 0 && p.ProductCode != "" && codes[p.ProductCode] == 1 {
			out = append(out, p)
		}
	}
	return out
}

// A stock step sending other levels stops, with more work left, once a listing
// becomes Urgent after its plan was read, so that the next pass sends it first
// instead of after the step's batch bound.
func TestStockStepMakesWayForAListingThatBecameUrgent(t *testing.T) {
	ls := newListingShop(t, 40)
	ctx := context.Background()
	products := plainProducts(ls)
	for _, p := range products {
		hubtest.StockItem(t, ls.db.Pool, p.ProductCode, map[string]int{"main": 50})
		hubtest.InsertListing(t, ls.db.Pool, hubtest.Listing{ChannelID: ls.ch.ID, ProductID: p.ID, SKU: p.ProductCode, EKMStock: hubtest.Ptr[int64](10)})
	}
	// Every line is an increase (10 to 50): none is urgent. Sends take 300 ms,
	// four at a time, so the step would take about 3 s for them all.
	ls.sim.SetFaults(ekmsim.Faults{Latency: 1, LatencyDuration: 300 * time.Millisecond})
	last := products[len(products)-1]
	go func() {
		time.Sleep(300 * time.Millisecond)
		if _, err := ls.db.Pool.Exec(ctx, `UPDATE stock_levels SET level = 1 WHERE sku = $1`, last.ProductCode); err != nil {
			t.Error(err)
		}
	}()
	res, err := ls.acts.PushStock(ctx, activities.PushInput{Channel: "shop"})
	if err != nil || !res.More || res.Sent == 0 || res.Sent >= len(products)-1 {
		t.Fatalf("the stock step after a SKU came down to 1: %+v, %v; want some of the %d lines sent and more work left", res, err, len(products))
	}
	ls.sim.SetFaults(ekmsim.Faults{})
	if _, err := ls.acts.PushStock(ctx, activities.PushInput{Channel: "shop"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := ls.sim.Product(last.ID); got.NumberInStock != 1 {
		t.Fatalf("EKM shows %d of the SKU that came down to 1, want 1", got.NumberInStock)
	}
}
