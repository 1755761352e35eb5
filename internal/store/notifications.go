package store

import (
	"context"
	"time"
)

// ClaimNotification claims the sending of a notification of event for the
// channel: true when this caller must send it. It is true for an event not
// notified before, and for one that cleared (or whose send failed) and was last
// sent longer than window ago; every other caller, in any worker process, gets
// false. The row lock of the upsert makes the claim exclusive.
func (s *Store) ClaimNotification(ctx context.Context, channelID int64, event, detail string, window time.Duration) (bool, error) {
	rows, err := s.Pool.Query(ctx, `INSERT INTO notifications AS n (channel_id, event, detail, sent_at)
		VALUES ($1, $2, $3, now())
		ON CONFLICT (channel_id, event) DO UPDATE SET detail = EXCLUDED.detail, sent_at = now(), cleared_at = NULL
		WHERE n.sent_at IS NULL OR (n.cleared_at IS NOT NULL AND n.sent_at < now() - make_interval(secs => $4))
		RETURNING 1`, channelID, event, detail, window.Seconds())
	if err != nil {
		return false, err
	}
	defer rows.Close()
	claimed := rows.Next()
	return claimed, rows.Err()
}

// ReleaseNotification gives a claim back after its send failed, so that the next
// check (of any worker) sends it.
func (s *Store) ReleaseNotification(ctx context.Context, channelID int64, event string) error {
	_, err := s.Pool.Exec(ctx, `UPDATE notifications SET sent_at = NULL WHERE channel_id = $1 AND event = $2`, channelID, event)
	return err
}

// ClearNotifications marks the channel's notified events that no longer hold
// (those not in holding) as cleared, so that each is sent again if it recurs.
func (s *Store) ClearNotifications(ctx context.Context, channelID int64, holding []string) error {
	if holding == nil {
		holding = []string{}
	}
	_, err := s.Pool.Exec(ctx, `UPDATE notifications SET cleared_at = now()
		WHERE channel_id = $1 AND cleared_at IS NULL AND sent_at IS NOT NULL AND NOT (event = ANY($2))`, channelID, holding)
	return err
}

// throttleGap is the longest pause between two 429s of one run of throttling.
const throttleGap = 5 * time.Minute

// RecordThrottle records that EKM answered a request of the named channel with
// 429, extending the channel's current run of throttling or starting a new one.
func (s *Store) RecordThrottle(ctx context.Context, channelName string) error {
	_, err := s.Pool.Exec(ctx, `INSERT INTO ekm_throttles AS t (channel_id, first_at, last_at)
		SELECT id, now(), now() FROM channels WHERE name = $1
		ON CONFLICT (channel_id) DO UPDATE SET last_at = now(),
			first_at = CASE WHEN t.last_at < now() - make_interval(secs => $2) THEN now() ELSE t.first_at END`,
		channelName, throttleGap.Seconds())
	return err
}
