package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/ekmsync/ekmsync/internal/ekmsim"
	"github.com/ekmsync/ekmsync/internal/harness"
	"github.com/ekmsync/ekmsync/internal/store"
)

// stockStep is one change of a listing's figure: the hub's available quantity
// (an order landing in the hub reserves it) or what EKM shows (a stock write).
type stockStep struct {
	at    time.Time
	value int64
}

// peakMeasure reads what the hub and the simulator recorded of the day into res.
// The hub's available quantity of a listing is its level less what the orders
// landed so far reserve (a despatch lowers the level as it ends the reservation,
// so it changes nothing); EKM's figure is the simulator's stock writes.
func peakMeasure(ctx context.Context, h *harness.Env, res *peakResult, shoppers []*peakShopper,
	byKey map[store.ListingKey]*peakListing, bySKU map[string]*peakListing, start, end time.Time) error {
	landed := map[int64]time.Time{}
	rows, err := h.DB.Pool.Query(ctx, `SELECT ekm_order_id, downloaded_at FROM orders WHERE channel_id = $1`, h.Settings().ID)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id int64
		var at time.Time
		if err := rows.Scan(&id, &at); err != nil {
			return err
		}
		landed[id] = at
	}
	if err := rows.Err(); err != nil {
		return err
	}
	dispatched := map[int64]time.Time{}
	for _, w := range h.Sim.Writes(ekmsim.WriteFilter{Kind: ekmsim.KindOrderStatus}) {
		dispatched[w.OrderID] = w.Time
	}

	// Orders and despatches; the hub's side of each listing, in landing order.
	slices.SortFunc(shoppers, func(a, b *peakShopper) int { return landed[a.ekmID].Compare(landed[b.ekmID]) })
	avail := map[*peakListing][]stockStep{}
	for _, s := range shoppers {
		res.orders++
		at, ok := landed[s.ekmID]
		if !ok {
			res.ordersMissing++
			res.orderLatency = append(res.orderLatency, unscaled(end.Sub(s.created)))
			continue
		}
		res.orderLatency = append(res.orderLatency, unscaled(max(0, at.Sub(s.created))))
		if !s.shipped.IsZero() {
			if d, ok := dispatched[s.ekmID]; ok {
				res.despatchLatency = append(res.despatchLatency, unscaled(max(0, d.Sub(s.shipped))))
			} else {
				res.despatchMissing++
				res.despatchLatency = append(res.despatchLatency, unscaled(end.Sub(s.shipped)))
			}
		}
		for _, line := range s.lines {
			l := bySKU[line.ProductCode]
			res.lines++
			steps := avail[l]
			before := l.stock
			if len(steps) > 0 {
				before = steps[len(steps)-1].value
			}
			res.oversoldUnits += int(max(0, line.Quantity-before))
			if after := max(0, before-line.Quantity); after != before {
				avail[l] = append(steps, stockStep{at: at, value: after})
				res.changes++
			}
		}
	}

	// EKM's side: every stock write of the day.
	shown := map[*peakListing][]stockStep{}
	for _, kind := range []string{ekmsim.KindProductStock, ekmsim.KindVariantStock} {
		for _, w := range h.Sim.Writes(ekmsim.WriteFilter{Kind: kind}) {
			var body struct {
				Stock int64 `json:"stock"`
			}
			if err := json.Unmarshal(w.Body, &body); err != nil {
				return fmt.Errorf("stock write %s: %w", w.Path, err)
			}
			key := store.ListingKey{ProductID: w.ProductID}
			if kind == ekmsim.KindVariantStock {
				key.VariantID = w.VariantID
			}
			l := byKey[key]
			if l == nil || w.Time.Before(start) {
				continue
			}
			shown[l] = append(shown[l], stockStep{at: w.Time, value: body.Stock})
			res.sends++
			if body.Stock != valueAt(avail[l], l.stock, w.Time) {
				res.superseded++
			}
		}
	}
	for l, hub := range avail {
		ekm := shown[l]
		res.exposureAll += exposure(hub, ekm, l.stock, start, end, false)
		res.exposureAtRisk += exposure(hub, ekm, l.stock, start, end, true)
		for _, change := range hub {
			if change.value > store.NearZero {
				continue
			}
			d, ok := shownBy(ekm, l.stock, change)
			if !ok {
				res.nearZeroMissing++
				d = end.Sub(change.at)
			}
			res.nearZeroLatency = append(res.nearZeroLatency, unscaled(d))
		}
	}
	for _, l := range [][]time.Duration{res.orderLatency, res.despatchLatency, res.nearZeroLatency} {
		slices.Sort(l)
	}
	return nil
}

// valueAt is a step function's value at t (initial before its first step).
func valueAt(steps []stockStep, initial int64, t time.Time) int64 {
	v := initial
	for _, s := range steps {
		if s.at.After(t) {
			break
		}
		v = s.value
	}
	return v
}

// shownBy is how long after a change of the hub's figure EKM showed no more than
// it: at once when it already did, else at the first write at or below it.
func shownBy(ekm []stockStep, initial int64, change stockStep) (time.Duration, bool) {
	if valueAt(ekm, initial, change.at) <= change.value {
		return 0, true
	}
	for _, s := range ekm {
		if s.at.After(change.at) && s.value <= change.value {
			return s.at.Sub(change.at), true
		}
	}
	return 0, false
}

// exposure is the seconds between start and end during which EKM showed more
// than the hub had available; atRisk counts only those when the hub had at most
// store.NearZero, where one order line of 1 to 3 units can be an oversell.
func exposure(hub, ekm []stockStep, initial int64, start, end time.Time, atRisk bool) float64 {
	times := []time.Time{start, end}
	for _, s := range append(slices.Clone(hub), ekm...) {
		if s.at.After(start) && s.at.Before(end) {
			times = append(times, s.at)
		}
	}
	slices.SortFunc(times, time.Time.Compare)
	total := 0.0
	for i := 0; i+1 < len(times); i++ {
		a, e := valueAt(hub, initial, times[i]), valueAt(ekm, initial, times[i])
		if e > a && (!atRisk || a <= store.NearZero) {
			total += times[i+1].Sub(times[i]).Seconds()
		}
	}
	return total
}

// peakRows turns the two runs into the rows: the low-first run's figures,
// and its exposure against the arrival-order run's.
func peakRows(low, base peakResult) []Row {
	p50, p99 := percentile(low.orderLatency, 0.5), percentile(low.orderLatency, 0.99)
	despatch := percentile(low.despatchLatency, 0.99)
	nearZero := percentile(low.nearZeroLatency, 0.99)
	ratio := func(a, b float64) float64 {
		if b == 0 {
			return 0
		}
		return a / b
	}
	risk, all := ratio(low.exposureAtRisk, base.exposureAtRisk), ratio(low.exposureAll, base.exposureAll)
	scale := fmt.Sprintf("time-scaled ×%d (bucket 40 leaking %d/s, traffic ×%d); times in real terms", peakScale, 2*peakScale, peakScale)
	return []Row{
		{Benchmark: "peak day: new order on EKM → hub, p50 / p99", Measured: realSeconds(p50) + " / " + realSeconds(p99), Goal: "< 15 s / < 60 s",
			Met: p50 < 15*time.Second && p99 < time.Minute,
			Note: fmt.Sprintf("%s; %d orders (%d lines) in %s, %d not in the hub by the end; the listing download fetched %d pages meanwhile",
				scale, low.orders, low.lines, peakOrdersFor, low.ordersMissing, low.listingPages)},
		{Benchmark: "peak day: hub ship → EKM dispatched, p99", Measured: realSeconds(despatch), Goal: "< 5 min", Met: despatch < 5*time.Minute,
			Note: fmt.Sprintf("%d despatches, %d not dispatched on EKM by the end (counted to the end)", len(low.despatchLatency), low.despatchMissing)},
		{Benchmark: "peak day: hub stock change → EKM shows it, p99, SKUs at ≤ 2 available", Measured: realSeconds(nearZero), Goal: "< 2 min",
			Met: nearZero < 2*time.Minute,
			Note: fmt.Sprintf("%d changes to ≤ 2, %d not shown by the end (counted to the end); arrival order: p99 %s; all SKUs: %d changes, %d stock sends (coalesced per SKU), %d of a level already superseded",
				len(low.nearZeroLatency), low.nearZeroMissing, realSeconds(percentile(base.nearZeroLatency, 0.99)), low.changes, low.sends, low.superseded)},
		{Benchmark: "peak day: oversell exposure (SKU-seconds EKM showed more than available) vs sending in arrival order", Measured: fmt.Sprintf("%.2f", risk),
			Goal: "<= 0.25", Met: base.exposureAtRisk > 0 && risk <= 0.25,
			Note: fmt.Sprintf("while the hub had ≤ 2 available (one order of 1–3 units can oversell): %.0f against %.0f SKU-s; over all SKUs: %.0f against %.0f (%.2f); units sold that the hub no longer had: %d against %d",
				unscaled(time.Duration(low.exposureAtRisk*float64(time.Second))).Seconds(), unscaled(time.Duration(base.exposureAtRisk*float64(time.Second))).Seconds(),
				unscaled(time.Duration(low.exposureAll*float64(time.Second))).Seconds(), unscaled(time.Duration(base.exposureAll*float64(time.Second))).Seconds(), all,
				low.oversoldUnits, base.oversoldUnits)},
		{Benchmark: "peak day: 429s", Measured: fmt.Sprint(low.tooMany), Goal: "0", Met: low.tooMany == 0,
			Note: fmt.Sprintf("arrival-order run: %d; EKM requests of the low-first run by route: %s", base.tooMany, routeCounts(low.routes))},
	}
}

// realSeconds prints a real-terms duration.
func realSeconds(d time.Duration) string {
	if d >= 10*time.Second {
		return d.Round(time.Second).String()
	}
	return fmt.Sprintf("%.1f s", d.Seconds())
}

// routeCounts lists request counts by route, largest first.
func routeCounts(m map[string]int) string {
	keys := slices.Collect(maps.Keys(m))
	slices.SortFunc(keys, func(a, b string) int { return m[b] - m[a] })
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}
