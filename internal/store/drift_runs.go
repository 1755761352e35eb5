package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
)

// DriftRun is the last drift comparison of a channel (drift_runs).
type DriftRun struct {
	ChannelID int64           `json:"channel_id"`
	Channel   string          `json:"channel"`
	LastRunAt *time.Time      `json:"last_run_at,omitempty"`
	LastError string          `json:"last_error,omitempty"`
	CheckedAt *time.Time      `json:"checked_at,omitempty"`
	Counts    json.RawMessage `json:"counts,omitempty"`
}

// RecordDriftRun records a comparison of the channel that ended at at: its counts
// (any JSON value) when it worked, or why it failed (errMsg), and releases the
// scheduled claim.
func (s *Store) RecordDriftRun(ctx context.Context, channelID int64, at time.Time, counts any, errMsg string) error {
	var b []byte
	if errMsg == "" {
		var err error
		if b, err = json.Marshal(counts); err != nil {
			return err
		}
	}
	var e *string
	if errMsg != "" {
		m := truncate(errMsg, 2000)
		e = &m
	}
	_, err := s.Pool.Exec(ctx, `INSERT INTO drift_runs AS d (channel_id, last_run_at, last_error, checked_at, counts)
		VALUES ($1, $2::timestamptz, $3::text, CASE WHEN $3::text IS NULL THEN $2::timestamptz END, $4::jsonb)
		ON CONFLICT (channel_id) DO UPDATE SET last_run_at = EXCLUDED.last_run_at, last_error = EXCLUDED.last_error,
			claimed_until = NULL, claimed_by = NULL,
			checked_at = COALESCE(EXCLUDED.checked_at, d.checked_at), counts = COALESCE(EXCLUDED.counts, d.counts)`,
		channelID, at, e, b)
	return err
}

// ClaimDueDrift claims, for owner and until lease has passed, one enabled channel
// whose scheduled comparison is due: drift_interval_seconds > 0 and that long
// since its last comparison (or since the channel was created), not claimed by a
// live claim. It returns false when none is due. Two workers never claim the same
// channel: the claim is taken under the row's lock, re-checking the lease.
func (s *Store) ClaimDueDrift(ctx context.Context, owner string, lease time.Duration) (int64, bool, error) {
	var id int64
	err := s.Pool.QueryRow(ctx, `WITH due AS (
			SELECT c.id FROM channels c LEFT JOIN drift_runs d ON d.channel_id = c.id
			WHERE c.enabled AND c.removed_at IS NULL AND c.drift_interval_seconds > 0
				AND (d.claimed_until IS NULL OR d.claimed_until < now())
				AND COALESCE(d.last_run_at, c.created_at) + make_interval(secs => c.drift_interval_seconds) <= now()
			ORDER BY COALESCE(d.last_run_at, c.created_at) LIMIT 1)
		INSERT INTO drift_runs AS d (channel_id, claimed_until, claimed_by)
		SELECT id, now() + make_interval(secs => $2), $1 FROM due
		ON CONFLICT (channel_id) DO UPDATE SET claimed_until = EXCLUDED.claimed_until, claimed_by = EXCLUDED.claimed_by
			WHERE d.claimed_until IS NULL OR d.claimed_until < now()
		RETURNING channel_id`, owner, lease.Seconds()).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	return id, err == nil, err
}

// DriftRuns returns the last comparison of every channel not removed that has one.
func (s *Store) DriftRuns(ctx context.Context) ([]DriftRun, error) {
	rows, err := s.Pool.Query(ctx, `SELECT d.channel_id, c.name, d.last_run_at, COALESCE(d.last_error, ''), d.checked_at, d.counts
		FROM drift_runs d JOIN channels c ON c.id = d.channel_id
		WHERE c.removed_at IS NULL AND d.last_run_at IS NOT NULL ORDER BY c.name`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (DriftRun, error) {
		var r DriftRun
		var counts []byte
		err := row.Scan(&r.ChannelID, &r.Channel, &r.LastRunAt, &r.LastError, &r.CheckedAt, &counts)
		r.Counts = counts
		return r, err
	})
}

// DriftRunOf returns the channel's last drift comparison; nil when none ran.
func (s *Store) DriftRunOf(ctx context.Context, channelID int64) (*DriftRun, error) {
	r := DriftRun{ChannelID: channelID}
	var counts []byte
	err := s.Pool.QueryRow(ctx, `SELECT c.name, d.last_run_at, COALESCE(d.last_error, ''), d.checked_at, d.counts
		FROM drift_runs d JOIN channels c ON c.id = d.channel_id WHERE d.channel_id = $1 AND d.last_run_at IS NOT NULL`,
		channelID).Scan(&r.Channel, &r.LastRunAt, &r.LastError, &r.CheckedAt, &counts)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	r.Counts = counts
	return &r, err
}
