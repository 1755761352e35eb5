package chaos

import (
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/ekmsync/ekmsync/internal/ekmsim"
	"github.com/ekmsync/ekmsync/internal/store"
)

// Finding is one check's result: how many things it compared and which disagreed.
type Finding struct {
	Check   string `json:"check"`
	Checked int    `json:"checked"`
	// Count is the number of mismatches; Mismatches describes the first of them.
	Count      int      `json:"mismatches"`
	Mismatches []string `json:"examples,omitempty"`
}

// maxExamples bounds the mismatches a finding describes.
const maxExamples = 10

func (f *Finding) mismatch(format string, args ...any) {
	f.Count++
	if len(f.Mismatches) < maxExamples {
		f.Mismatches = append(f.Mismatches, fmt.Sprintf(format, args...))
	}
}

// agree reports whether no finding has a mismatch.
func agree(found []Finding) bool {
	for _, f := range found {
		if f.Count > 0 {
			return false
		}
	}
	return len(found) > 0
}

// check compares the hub with the shop. The expected stock is computed here from
// the hub's tables by the channel's rules, independently of the push's own plan.
func (r *runner) check(ctx context.Context) ([]Finding, error) {
	channelID := r.env.Settings().ID
	shop := listingsOf(r.shopProducts())
	listings, err := r.checkListings(ctx, channelID, shop)
	if err != nil {
		return nil, err
	}
	orders, err := r.checkOrders(ctx, channelID)
	if err != nil {
		return nil, err
	}
	despatches := r.checkDespatches()
	stock, prices, err := r.checkStockAndPrices(ctx, shop)
	if err != nil {
		return nil, err
	}
	found := []Finding{listings, orders, despatches, stock, prices}
	if r.cfg.Hostile.on() {
		hostile, err := r.checkHostile(ctx, channelID)
		if err != nil {
			return nil, err
		}
		found = append(found, hostile...)
	}
	return found, nil
}

// checkBucket: the shop's bucket itself never answered 429. The workers share
// it through PostgreSQL, so a 429 of its own means they overdrew it together;
// the injected 429s (bursts of the faults) are not the workers' doing and are
// left out.
func (r *runner) checkBucket() Finding {
	rs := r.env.Sim.RequestStats()
	f := Finding{Check: "no 429 from the shop's bucket", Checked: apiRequests(rs)}
	if rs.BucketLimited > 0 {
		f.Count = rs.BucketLimited
		f.Mismatches = []string{fmt.Sprintf("the bucket answered %d requests with 429: the workers overdrew the shared budget (the %d injected 429s not counted)",
			rs.BucketLimited, rs.Faults.RateLimited)}
	}
	return f
}

// checkListings: every listing of the shop is in the hub once, with its SKU and
// SKU problem, nothing else is, and the listing download completed.
func (r *runner) checkListings(ctx context.Context, channelID int64, shop []shopListing) (Finding, error) {
	f := Finding{Check: "listings match the shop", Checked: len(shop)}
	type hubListing struct {
		sku, problem string
	}
	hub := map[store.ListingKey]hubListing{}
	rows, err := r.env.DB.Pool.Query(ctx, `SELECT product_id, variant_id, sku, COALESCE(sku_problem, '') FROM listings
		WHERE channel_id = $1 AND removed_at IS NULL`, channelID)
	if err != nil {
		return f, fmt.Errorf("read the hub's listings: %w", err)
	}
	var k store.ListingKey
	var h hubListing
	if _, err := pgx.ForEachRow(rows, []any{&k.ProductID, &k.VariantID, &h.sku, &h.problem}, func() error {
		hub[k] = h
		return nil
	}); err != nil {
		return f, fmt.Errorf("read the hub's listings: %w", err)
	}
	for _, l := range shop {
		got, ok := hub[l.ListingKey]
		delete(hub, l.ListingKey)
		want := r.catalog.problem(l.SKU)
		switch {
		case !ok:
			f.mismatch("listing %v (SKU %q) is not in the hub", l.ListingKey, l.SKU)
		case got.sku != l.SKU || got.problem != want:
			f.mismatch("listing %v: hub has SKU %q (problem %q), the shop %q (problem %q)", l.ListingKey, got.sku, got.problem, l.SKU, want)
		}
	}
	for k := range hub {
		f.mismatch("listing %v is in the hub but not in the shop", k)
	}
	var inProgress, completed bool
	if err := r.env.DB.Pool.QueryRow(ctx, `SELECT in_progress, completion_time IS NOT NULL FROM listing_downloads
		WHERE channel_id = $1`, channelID).Scan(&inProgress, &completed); err != nil {
		return f, fmt.Errorf("read the listing download's state: %w", err)
	}
	if inProgress || !completed {
		f.mismatch("the listing download has not completed (in progress %v)", inProgress)
	}
	return f, nil
}

// checkOrders: every order that arrived is in the hub exactly once, with as many
// lines as the shop's, and no other order is.
func (r *runner) checkOrders(ctx context.Context, channelID int64) (Finding, error) {
	r.mu.Lock()
	arrived := slices.Clone(r.orders)
	r.mu.Unlock()
	f := Finding{Check: "orders downloaded exactly once", Checked: len(arrived)}
	type hubOrder struct{ copies, lines int }
	hub := map[int64]*hubOrder{}
	rows, err := r.env.DB.Pool.Query(ctx, `SELECT o.ekm_order_id, (SELECT count(*) FROM order_lines l WHERE l.order_id = o.id)
		FROM orders o WHERE o.channel_id = $1`, channelID)
	if err != nil {
		return f, fmt.Errorf("read the hub's orders: %w", err)
	}
	var id int64
	var lines int
	if _, err := pgx.ForEachRow(rows, []any{&id, &lines}, func() error {
		if hub[id] == nil {
			hub[id] = &hubOrder{}
		}
		hub[id].copies++
		hub[id].lines = lines
		return nil
	}); err != nil {
		return f, fmt.Errorf("read the hub's orders: %w", err)
	}
	for _, id := range arrived {
		got := hub[id]
		delete(hub, id)
		items, _ := r.env.Sim.OrderItems(id)
		switch {
		case got == nil:
			f.mismatch("order %d is not in the hub", id)
		case got.copies != 1:
			f.mismatch("order %d is in the hub %d times", id, got.copies)
		case got.lines != len(items):
			f.mismatch("order %d has %d lines in the hub, %d on the shop", id, got.lines, len(items))
		}
	}
	for id, got := range hub {
		f.mismatch("order %d is in the hub (%d times) but never arrived on the shop", id, got.copies)
	}
	return f, nil
}

// checkDespatches: every order the hub shipped shows DISPATCHED on the shop, after
// exactly one status change, one tracking update (the first parcel with a
// tracking number, which the shop then shows) when a parcel has one, and one
// notes update when more parcels have one; no other order got any.
func (r *runner) checkDespatches() Finding {
	r.mu.Lock()
	shipped := make(map[int64][]store.Parcel, len(r.shipped))
	for id, p := range r.shipped {
		shipped[id] = p
	}
	r.mu.Unlock()
	f := Finding{Check: "despatches sent exactly once", Checked: len(shipped)}
	writes := map[string]map[int64]int{}
	for _, kind := range []string{ekmsim.KindOrderStatus, ekmsim.KindOrderTracking, ekmsim.KindOrderNotes} {
		writes[kind] = map[int64]int{}
		for _, w := range r.env.Sim.Writes(ekmsim.WriteFilter{Kind: kind}) {
			writes[kind][w.OrderID]++
		}
	}
	for id, parcels := range shipped {
		var tracked []string
		for _, p := range parcels {
			if p.TrackingNumber != "" {
				tracked = append(tracked, p.TrackingNumber)
			}
		}
		want := map[string]int{ekmsim.KindOrderStatus: 1, ekmsim.KindOrderTracking: min(len(tracked), 1),
			ekmsim.KindOrderNotes: min(max(len(tracked)-1, 0), 1)}
		o, _ := r.env.Sim.Order(id)
		if o.Status != "DISPATCHED" {
			f.mismatch("order %d shows %s on the shop, want DISPATCHED", id, o.Status)
		}
		if len(tracked) > 0 && o.DeliveryTrackingNumber != tracked[0] {
			f.mismatch("order %d shows tracking %q on the shop, want %q", id, o.DeliveryTrackingNumber, tracked[0])
		}
		for kind, n := range want {
			if got := writes[kind][id]; got != n {
				f.mismatch("order %d got %d %s writes, want %d", id, got, kind, n)
			}
		}
	}
	for kind, byOrder := range writes {
		for id, n := range byOrder {
			if _, ok := shipped[id]; !ok {
				f.mismatch("order %d was never shipped in the hub but got %d %s writes", id, n, kind)
			}
		}
	}
	return f
}

// checkStockAndPrices: every listing of a managed SKU (exactly one listing) with a
// stock item shows the quantity the channel's rules give, and with a hub price
// shows that price.
func (r *runner) checkStockAndPrices(ctx context.Context, shop []shopListing) (stock, prices Finding, err error) {
	stock, prices = Finding{Check: "stock levels agree"}, Finding{Check: "prices agree"}
	want := map[string]int64{}
	rows, err := r.env.DB.Pool.Query(ctx, `SELECT si.sku,
			COALESCE((SELECT sum(level) FROM stock_levels sl WHERE sl.sku = si.sku), 0)::bigint,
			COALESCE((SELECT sum(GREATEST(l.quantity - l.cancelled_quantity, 0)) FROM order_lines l
				JOIN orders o ON o.id = l.order_id WHERE o.status = 'open' AND l.sku = si.sku), 0)::bigint
		FROM stock_items si`)
	if err != nil {
		return stock, prices, fmt.Errorf("read the hub's stock: %w", err)
	}
	var sku string
	var level, reserved int64
	if _, err := pgx.ForEachRow(rows, []any{&sku, &level, &reserved}, func() error {
		want[sku] = min(max(level-reserved, 0)*stockPercentage/100, maxListed)
		return nil
	}); err != nil {
		return stock, prices, fmt.Errorf("read the hub's stock: %w", err)
	}
	price := map[string]store.Pennies{}
	rows, err = r.env.DB.Pool.Query(ctx, `SELECT sku, round(price * 100)::bigint FROM prices`)
	if err != nil {
		return stock, prices, fmt.Errorf("read the hub's prices: %w", err)
	}
	var p store.Pennies
	if _, err := pgx.ForEachRow(rows, []any{&sku, &p}, func() error {
		price[sku] = p
		return nil
	}); err != nil {
		return stock, prices, fmt.Errorf("read the hub's prices: %w", err)
	}
	for _, l := range shop {
		if r.catalog.problem(l.SKU) != "" {
			continue
		}
		if q, ok := want[l.SKU]; ok {
			stock.Checked++
			if l.Stock != q {
				stock.mismatch("%s (%v) shows %d on the shop, the hub wants %d", l.SKU, l.ListingKey, l.Stock, q)
			}
		}
		if hp, ok := price[l.SKU]; ok {
			prices.Checked++
			if l.Price != hp {
				prices.mismatch("%s (%v) shows %s on the shop, the hub has %s", l.SKU, l.ListingKey, l.Price, hp)
			}
		}
	}
	return stock, prices, nil
}
