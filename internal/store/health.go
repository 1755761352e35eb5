package store

import (
	"context"
	"time"
)

// ChannelHealth is what the worker's metrics and notifications report of a
// channel beside its settings: facts the hub already keeps, read in one query.
type ChannelHealth struct {
	ChannelID int64
	// LastOrderSync is when the last order sync finished without error; nil: never.
	LastOrderSync *time.Time
	// TokensAt is when the channel's refresh token was last issued (authorisation
	// or refresh); nil: it has none. EKM's lapse 15 days after their last use.
	TokensAt *time.Time
	// Quarantined counts the channel's unresolved order problems.
	Quarantined int64
	// The listing download: whether one runs, its pages, estimated completion,
	// and when its state last moved.
	ListingInProgress bool
	ListingPagesDone  int64
	ListingPagesTotal *int64
	ListingETA        *time.Time
	ListingUpdatedAt  *time.Time
	// ThrottledSince is when EKM's current run of 429s for the channel began (its
	// last 429 came within 5 minutes); nil: not throttled now.
	ThrottledSince *time.Time
	// DriftedRows is how many rows the last drift comparison that worked found
	// drifted (pending ones left out); 0 when none ran.
	DriftedRows int64
}

// ChannelHealth reads the health facts of every channel not removed. It is cheap
// (one row per channel, index lookups), so that it can run at every scrape.
func (s *Store) ChannelHealth(ctx context.Context) (map[int64]ChannelHealth, error) {
	rows, err := s.Pool.Query(ctx, `SELECT c.id, o.last_run_at, COALESCE(cr.refreshed_at, cr.updated_at),
		(SELECT count(*) FROM order_problems p WHERE p.channel_id = c.id AND p.resolved_at IS NULL),
		COALESCE(d.in_progress, false), COALESCE(d.pages_done, 0), d.pages_total, d.estimated_completion, d.updated_at,
		CASE WHEN t.last_at >= now() - make_interval(secs => $1) THEN t.first_at END,
		COALESCE((SELECT sum(e.value::numeric)::bigint FROM drift_runs dr,
			jsonb_each_text(CASE WHEN jsonb_typeof(dr.counts) = 'object' THEN dr.counts END) e
			WHERE dr.channel_id = c.id AND e.key <> 'pending'), 0)
		FROM channels c
		LEFT JOIN order_sync_state o ON o.channel_id = c.id
		LEFT JOIN channel_credentials cr ON cr.channel_id = c.id AND cr.refresh_token IS NOT NULL
		LEFT JOIN listing_downloads d ON d.channel_id = c.id
		LEFT JOIN ekm_throttles t ON t.channel_id = c.id
		WHERE c.removed_at IS NULL`, throttleGap.Seconds())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]ChannelHealth{}
	for rows.Next() {
		var h ChannelHealth
		var total *int32
		var done int32
		if err := rows.Scan(&h.ChannelID, &h.LastOrderSync, &h.TokensAt, &h.Quarantined, &h.ListingInProgress,
			&done, &total, &h.ListingETA, &h.ListingUpdatedAt, &h.ThrottledSince, &h.DriftedRows); err != nil {
			return nil, err
		}
		h.ListingPagesDone = int64(done)
		if total != nil {
			t := int64(*total)
			h.ListingPagesTotal = &t
		}
		out[h.ChannelID] = h
	}
	return out, rows.Err()
}
