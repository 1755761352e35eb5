package store

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

// The order in which a push pass sends the stock of its pending listings. On a
// busy day EKM's rate budget cannot carry every change, so the order decides
// what the shop shows: a listing that shows stock the hub no longer has is an
// oversell waiting to happen, and the nearer the hub is to none, the likelier
// the next order is one. Coalescing needs nothing here: a pass sends each
// listing's quantity from the hub as it is then (desired minus confirmed), so
// however often a SKU changed since the last send, only its latest level goes.

// NearZero is the available quantity at or below which a listing whose EKM
// figure is to come down goes first: one order line of a few units can then take
// more than the hub has (docs/channel-semantics.md §3).
const NearZero = 2

// StockOrder is an order of a pass's stock sends.
type StockOrder int

const (
	// StockLowFirst sends the listings whose EKM figure comes down to at most
	// NearZero first, then the other decreases, then the increases; each group
	// by available quantity, lowest first, then in arrival order. Every worker
	// sends in this order.
	StockLowFirst StockOrder = iota
	// StockArrival sends in arrival order only: the listing whose pending change
	// came first goes first. It is the peak-day benchmark's baseline.
	StockArrival
)

// Available is the hub's available quantity of the listing's SKU: its level
// less what open orders reserve, never below 0 (§3, step 1).
func (l StockLine) Available() int64 { return max(0, l.Level-l.Reserved) }

// urgency ranks a pending listing for StockLowFirst: 0 when EKM's figure is to
// come down to a SKU at or near zero, 1 for another decrease, 2 for an increase.
// A figure EKM never confirmed (nil) may be anything, so it counts as a decrease.
func (l StockLine) urgency() int {
	lowers := l.Confirmed == nil || *l.Confirmed > l.Desired
	switch {
	case lowers && l.Available() <= NearZero:
		return 0
	case lowers:
		return 1
	}
	return 2
}

// Urgent reports whether EKM's figure of the listing is to come down to a SKU
// at or below NearZero available: the sends that go first.
func (l StockLine) Urgent() bool { return l.urgency() == 0 }

// SortStockPlan orders pending stock lines for sending. Arrival order is
// Changed, earliest first (unknown first: it waited longest, as far as anyone can
// tell), then the listing key, so that the order is total and repeatable.
func SortStockPlan(lines []StockLine, order StockOrder) {
	slices.SortStableFunc(lines, func(a, b StockLine) int {
		if order == StockLowFirst {
			if c := cmp.Compare(a.urgency(), b.urgency()); c != 0 {
				return c
			}
			if c := cmp.Compare(a.Available(), b.Available()); c != 0 {
				return c
			}
		}
		if c := compareChanged(a.Changed, b.Changed); c != 0 {
			return c
		}
		if c := cmp.Compare(a.ProductID, b.ProductID); c != 0 {
			return c
		}
		return cmp.Compare(a.VariantID, b.VariantID)
	})
}

func compareChanged(a, b *time.Time) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	return a.Compare(*b)
}

// StockChanges sets Changed on each line: when the hub first changed the SKU's
// figures after the listing's last successful send (any time, if it never had
// one), as far as the hub records it: the earliest download of an order with a
// line of the SKU, or the latest update of one of its stock levels (the hub keeps
// no earlier one). A line with neither keeps Changed nil. Call it with the
// pending lines only: it costs two index look-ups per line.
func (s *Store) StockChanges(ctx context.Context, lines []StockLine) error {
	if len(lines) == 0 {
		return nil
	}
	skus := make([]string, len(lines))
	since := make([]time.Time, len(lines))
	for i, l := range lines {
		skus[i] = l.SKU
		since[i] = time.Unix(0, 0) // before any hub row
		if l.SentAt != nil {
			since[i] = *l.SentAt
		}
	}
	rows, err := s.Pool.Query(ctx, `SELECT p.i, LEAST(
			(SELECT min(o.downloaded_at) FROM order_lines ol JOIN orders o ON o.id = ol.order_id
				WHERE ol.sku = p.sku AND o.downloaded_at > p.since),
			(SELECT max(sl.updated_at) FROM stock_levels sl WHERE sl.sku = p.sku AND sl.updated_at > p.since))
		FROM unnest($1::text[], $2::timestamptz[]) WITH ORDINALITY AS p(sku, since, i)`, skus, since)
	if err != nil {
		return err
	}
	var i int64
	var at *time.Time
	_, err = pgx.ForEachRow(rows, []any{&i, &at}, func() error {
		lines[i-1].Changed = at
		return nil
	})
	return err
}
