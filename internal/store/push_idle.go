package store

import (
	"context"
	"slices"
	"time"

	"github.com/ekmsync/ekmsync/internal/channel"
)

// PushIdle reports whether a push pass of the channel would find nothing to do
// at now: no open despatch or cancellation due (one EKM rejected waits for its
// backoff), no stock or price to send while its setting is on, and no shadow
// plan left to clear. A shadow channel is never idle: each pass records its
// plan afresh. The push loop's sweep asks this before it runs a pass's four
// steps, so that an idle channel's sweep costs Temporal one activity, not five.
func (s *Store) PushIdle(ctx context.Context, st channel.Settings, now time.Time) (bool, error) {
	if st.Shadow {
		return false, nil
	}
	var busy bool
	err := s.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM order_outbound ob JOIN orders o ON o.id = ob.order_id
			WHERE ob.done_at IS NULL AND o.channel_id = $1 AND (ob.retry_after IS NULL OR ob.retry_after <= $2))
		OR EXISTS (SELECT 1 FROM push_plan WHERE channel_id = $1)`, st.ID, now).Scan(&busy)
	if err != nil || busy {
		return false, err
	}
	if st.UpdateInventory {
		lines, err := s.PendingStock(ctx, st)
		if err != nil || slices.ContainsFunc(lines, func(l StockLine) bool { return l.Pending(now) }) {
			return false, err
		}
	}
	if st.PriceChange {
		lines, err := s.PendingPrices(ctx, st.ID)
		if err != nil || slices.ContainsFunc(lines, func(l PriceLine) bool { return l.Pending(now) }) {
			return false, err
		}
	}
	return true, nil
}
