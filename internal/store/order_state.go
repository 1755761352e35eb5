package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// OrderSyncState is the order sync's state: the Order Sync Date and the last run.
type OrderSyncState struct {
	SyncDate      *time.Time     `json:"order_sync_date"`
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

// StartOrderSyncRun records that a sync run of the channel started.
func (s *Store) StartOrderSyncRun(ctx context.Context, channelID int64) error {
	_, err := s.Pool.Exec(ctx, `INSERT INTO order_sync_state (channel_id, last_run_started_at) VALUES ($1, now())
		ON CONFLICT (channel_id) DO UPDATE SET last_run_started_at = now(), updated_at = now()`, channelID)
	return err
}

// FinishOrderSyncRun records a completed sync run: its result, and the newest EKM
// last_updated it processed (never moved back; nil leaves it).
func (s *Store) FinishOrderSyncRun(ctx context.Context, channelID int64, updatedCursor *time.Time, result any) error {
	b, err := json.Marshal(result)
	if err != nil {
		return fmt.Errorf("order sync result: %w", err)
	}
	// The result quotes EKM (statuses in reasons): made storable for jsonb.
	_, err = s.Pool.Exec(ctx, `INSERT INTO order_sync_state (channel_id, updated_cursor, last_run_at, last_result)
		VALUES ($1, $2, now(), $3)
		ON CONFLICT (channel_id) DO UPDATE SET
			updated_cursor = COALESCE(GREATEST(order_sync_state.updated_cursor, EXCLUDED.updated_cursor), order_sync_state.updated_cursor),
			last_run_at = now(), last_result = EXCLUDED.last_result, updated_at = now()`, channelID, updatedCursor, StorableJSON(b))
	return err
}
