package store

import (
	"context"
	"time"
)

// OrderSyncState is the order sync's state: the Order Sync Date and the last run.
type OrderSyncState struct {
	SyncDate      *time.Time     `json:"sync_date"`
	UpdatedCursor *time.Time     `json:"updated_cursor"`
	LastRunAt     *time.Time     `json:"last_run_at"`
	LastResult    map[string]any `json:"last_result,omitempty"`
}

// OrderSync reads a channel's order sync state.
func (s *Store) OrderSync(ctx context.Context, channelID int64) (OrderSyncState, error) {
	var st OrderSyncState
	err := s.Pool.QueryRow(ctx, `SELECT sync_date, updated_cursor, last_run_at, last_result FROM order_sync_state WHERE channel_id = $1`,
		channelID).Scan(&st.SyncDate, &st.UpdatedCursor, &st.LastRunAt, &st.LastResult)
	return st, err
}
