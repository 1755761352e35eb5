package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/ekmsync/ekmsync/activities"
	"github.com/ekmsync/ekmsync/internal/ekm"
	"github.com/ekmsync/ekmsync/internal/ekmsim"
	"github.com/ekmsync/ekmsync/internal/harness"
	"github.com/ekmsync/ekmsync/internal/store"
)

// PeakDay is a 20,000-product shop's busiest day (issue 14): 2,000 orders an
// hour, each taking 1 to 3 SKUs (a few hundred popular ones most of all),
// despatched from the hub within the half hour, while a listing download runs,
// at EKM's bucket of 40 leaking 2 a second. It is time-scaled: the bucket leaks
// peakScale times faster and everything arrives peakScale times faster, so the
// ratios hold and the day's 38 minutes take under two; every time reported is in
// real (un-scaled) terms. The scale is low enough that EKM's bucket, not this
// machine, bounds the run (a millisecond of work here is peakScale of the day's).
// It runs twice, sending stock low first as every worker does, and in arrival
// order, the baseline of the oversell exposure.
var PeakDay = Benchmark{Name: "peak-day", Run: runPeakDay}

// The peak day's shape, in real time.
const (
	peakScale        = 20               // time runs this much faster
	peakOrdersAnHour = 2000             // orders arriving on EKM
	peakOrdersFor    = 20 * time.Minute // how long they arrive
	peakShipMin      = 2 * time.Minute  // despatch after an order: uniform between these
	peakShipMax      = 13 * time.Minute
	peakDrain        = 5 * time.Minute // after the last despatch: what is still pending goes out
	peakHot          = 400             // popular SKUs, with 1 to 20 in stock
	peakHotShare     = 0.6             // of the order lines
)

// peakShopper is one order the benchmark placed on EKM, and its despatch.
type peakShopper struct {
	ekmID   int64
	created time.Time
	shipAt  time.Time // when the hub is to ship it
	shipped time.Time // when the hub did
	lines   []ekmsim.LineSpec
}

// peakListing is a listing of the shop as the benchmark follows it.
type peakListing struct {
	key   store.ListingKey
	sku   string
	stock int64 // EKM's figure at the start, also the hub's level
}

// peakResult is what one run measured, times in real terms.
type peakResult struct {
	orderLatency, despatchLatency, nearZeroLatency  []time.Duration
	ordersMissing, despatchMissing, nearZeroMissing int
	exposureAll, exposureAtRisk                     float64 // SKU-seconds
	oversoldUnits, orders, lines                    int
	changes, sends, superseded                      int
	tooMany                                         int
	listingPages                                    int
	routes                                          map[string]int // EKM requests by route, the whole run
}

func runPeakDay(tb harness.TB) ([]Row, error) {
	low, err := peakRun(tb, store.StockLowFirst)
	if err != nil {
		return nil, fmt.Errorf("low first: %w", err)
	}
	base, err := peakRun(tb, store.StockArrival)
	if err != nil {
		return nil, fmt.Errorf("arrival order: %w", err)
	}
	return peakRows(low, base), nil
}

// peakRun runs the day once with the worker sending stock in order.
func peakRun(tb harness.TB, order store.StockOrder) (peakResult, error) {
	var res peakResult
	defer scaleWorker(peakScale, order)()

	// Each run its own channel name: the first run's loops (workflow IDs derive
	// from the name) run until the benchmark's cleanups.
	// The shop's first download, before the day, goes at a fast bucket (it is
	// not measured); the day runs at EKM's, scaled, which the worker learns from
	// the first answer.
	h := harness.New(tb, harness.Options{Channel: fmt.Sprintf("peak-%d", order), Sim: ekmsim.Options{Seed: 14, Products: 20000, VariantShare: 0.3,
		BucketSize: 400, LeakPerSecond: 1000}})
	ctx := context.Background()
	if _, _, err := timedDownload(h); err != nil {
		return res, err
	}
	time.Sleep(time.Second) // both buckets drain
	h.Sim.SetRateLimit(ekm.DefaultBucketSize, ekm.DefaultLeakPerSecond*peakScale)
	listings, err := peakStock(ctx, h)
	if err != nil {
		return res, err
	}
	hot, all := peakPopular(listings)
	byKey := map[store.ListingKey]*peakListing{}
	bySKU := map[string]*peakListing{}
	for i := range listings {
		byKey[listings[i].key], bySKU[listings[i].sku] = &listings[i], &listings[i]
	}
	// The Schedule's listing download happens to run too: it must yield.
	if _, err := h.Workflows.StartListingDownload(ctx, h.Channel); err != nil {
		return res, err
	}
	tooMany := h.Sim.RequestStats().RateLimited
	start := time.Now()
	end := start.Add(scaled(peakOrdersFor + peakShipMax + peakDrain))
	shoppers, shipped := peakTraffic(ctx, h, start, end, hot, all)
	time.Sleep(time.Until(end))
	shipped()
	if res.listingPages, err = listingPagesDone(h); err != nil {
		return res, err
	}
	stats := h.Sim.RequestStats()
	res.tooMany = stats.RateLimited - tooMany
	res.routes = stats.ByRoute
	return res, peakMeasure(ctx, h, &res, shoppers, byKey, bySKU, start, end)
}

// scaleWorker sets what the in-process worker reads when it starts: the stock
// order under test, and the webhook receiver's bounds scaled with the traffic
// (they are per minute of real time: unscaled, they would throttle the scaled
// orders). It returns the function that puts them back.
func scaleWorker(scale int, order store.StockOrder) (restore func()) {
	savedOrder, savedLimits := activities.StockOrder, store.DefaultHintLimits
	activities.StockOrder = order
	store.DefaultHintLimits = store.HintLimits{RepeatAfter: savedLimits.RepeatAfter / time.Duration(scale), PerMinute: savedLimits.PerMinute * scale}
	return func() { activities.StockOrder, store.DefaultHintLimits = savedOrder, savedLimits }
}

// scaled turns a real duration into the benchmark's.
func scaled(d time.Duration) time.Duration { return d / peakScale }

// unscaled turns a measured duration into real terms.
func unscaled(d time.Duration) time.Duration { return d * peakScale }

// peakStock gives the hub a stock item for each listing with a SKU, at the level
// EKM shows, so that nothing is pending when the day begins, and returns them.
func peakStock(ctx context.Context, h *harness.Env) ([]peakListing, error) {
	channelID := h.Settings().ID
	tx, err := h.DB.Pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, `INSERT INTO stock_items (sku) SELECT sku FROM listings
		WHERE channel_id = $1 AND removed_at IS NULL AND sku_problem IS NULL AND sku <> '' ON CONFLICT DO NOTHING`, channelID); err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO stock_levels (sku, location, level) SELECT sku, 'default', COALESCE(ekm_stock, 0) FROM listings
		WHERE channel_id = $1 AND removed_at IS NULL AND sku_problem IS NULL AND sku <> ''`, channelID); err != nil {
		return nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, err
	}
	rows, err := h.DB.Pool.Query(ctx, `SELECT product_id, variant_id, sku, COALESCE(ekm_stock, 0) FROM listings
		WHERE channel_id = $1 AND removed_at IS NULL AND sku_problem IS NULL AND sku <> '' ORDER BY product_id, variant_id`, channelID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []peakListing
	for rows.Next() {
		var l peakListing
		if err := rows.Scan(&l.key.ProductID, &l.key.VariantID, &l.sku, &l.stock); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// Let the push see the levels (nothing to send: they are EKM's figures).
	time.Sleep(2 * time.Second)
	return out, nil
}

// peakPopular picks the popular SKUs (low in stock, as a sale's best sellers
// are by the afternoon) and the rest of the catalogue in stock.
func peakPopular(listings []peakListing) (hot, all []*peakListing) {
	rng := rand.New(rand.NewPCG(14, 1))
	for i := range listings {
		l := &listings[i]
		if l.stock > 0 {
			all = append(all, l)
			if l.stock <= 20 {
				hot = append(hot, l)
			}
		}
	}
	rng.Shuffle(len(hot), func(i, j int) { hot[i], hot[j] = hot[j], hot[i] })
	return hot[:min(peakHot, len(hot))], all
}

// peakTraffic places the orders on EKM as shoppers would (only what EKM shows
// in stock), and ships each from the hub at its time, as the warehouse would:
// parcel, status and stock level in one transaction, so that the level falls as
// the reservation ends. It returns once the last order is placed; the shipping
// goes on in the background until each order is shipped or the run ends (end);
// wait waits for it.
func peakTraffic(ctx context.Context, h *harness.Env, start, end time.Time, hot, all []*peakListing) (shoppers []*peakShopper, wait func()) {
	rng := rand.New(rand.NewPCG(14, 2))
	var ships sync.WaitGroup
	channelID := h.Settings().ID
	mean := float64(time.Hour) / peakOrdersAnHour
	next := start
	for next.Before(start.Add(scaled(peakOrdersFor))) {
		time.Sleep(time.Until(next))
		lines := peakLines(h, rng, hot, all)
		if len(lines) > 0 {
			o := h.Sim.CreateOrder(ekmsim.OrderSpec{Status: "Processing", Lines: lines})
			shipIn := peakShipMin + time.Duration(rng.Int64N(int64(peakShipMax-peakShipMin)))
			s := &peakShopper{ekmID: o.ID, created: time.Now(), lines: lines}
			s.shipAt = s.created.Add(scaled(shipIn))
			shoppers = append(shoppers, s)
			ships.Go(func() { peakShip(ctx, h, channelID, s, end) })
		}
		next = next.Add(scaled(time.Duration(rng.ExpFloat64() * mean)))
	}
	return shoppers, ships.Wait
}

// peakLines picks an order's 1 to 3 lines, of 1 to 3 units each, among what EKM
// shows in stock.
func peakLines(h *harness.Env, rng *rand.Rand, hot, all []*peakListing) []ekmsim.LineSpec {
	n := 1 + rng.IntN(3)
	var lines []ekmsim.LineSpec
	taken := map[string]bool{}
	for tries := 0; len(lines) < n && tries < 20; tries++ {
		pool := all
		if rng.Float64() < peakHotShare {
			pool = hot
		}
		l := pool[rng.IntN(len(pool))]
		if taken[l.sku] {
			continue
		}
		shown := shownStock(h, l.key)
		qty := int64(1)
		switch r := rng.Float64(); {
		case r > 0.9:
			qty = 3
		case r > 0.7:
			qty = 2
		}
		qty = min(qty, shown)
		if qty <= 0 {
			continue // EKM shows none: the shopper cannot buy it
		}
		taken[l.sku] = true
		lines = append(lines, ekmsim.LineSpec{ProductCode: l.sku, Quantity: qty})
	}
	return lines
}

// shownStock is what EKM shows of a listing now.
func shownStock(h *harness.Env, k store.ListingKey) int64 {
	if k.VariantID != 0 {
		v, _ := h.Sim.Variant(k.VariantID)
		return v.NumberInStock
	}
	p, _ := h.Sim.Product(k.ProductID)
	return p.NumberInStock
}

// peakShip ships one order from the hub at its time, once the order is there.
func peakShip(ctx context.Context, h *harness.Env, channelID int64, s *peakShopper, deadline time.Time) {
	time.Sleep(time.Until(s.shipAt))
	for time.Now().Before(deadline) {
		tx, err := h.DB.Pool.Begin(ctx)
		if err != nil {
			return
		}
		var id int64
		err = tx.QueryRow(ctx, `UPDATE orders SET status = 'shipped', shipped_at = now(), updated_at = now()
			WHERE channel_id = $1 AND ekm_order_id = $2 AND status = 'open' RETURNING id`, channelID, s.ekmID).Scan(&id)
		if err == nil {
			_, err = tx.Exec(ctx, `INSERT INTO shipments (order_id, parcel, tracking_number, carrier) VALUES ($1, 1, $2, 'Royal Mail')`,
				id, fmt.Sprintf("RM%09dGB", s.ekmID))
		}
		if err == nil {
			_, err = tx.Exec(ctx, `UPDATE stock_levels sl SET level = sl.level - l.quantity, updated_at = now()
				FROM order_lines l WHERE l.order_id = $1 AND sl.sku = l.sku AND sl.location = 'default'`, id)
		}
		if err == nil {
			if err = tx.Commit(ctx); err == nil {
				s.shipped = time.Now()
				return
			}
		}
		_ = tx.Rollback(ctx)
		time.Sleep(scaled(10 * time.Second)) // not in the hub yet: the warehouse looks again
	}
}
