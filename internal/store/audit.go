package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// AuditEntry is one line of the audit log: a setting change, or a send to EKM with
// what was sent and EKM's answer.
type AuditEntry struct {
	ID        int64          `json:"id"`
	At        time.Time      `json:"at"`
	ChannelID int64          `json:"-"`
	Channel   string         `json:"channel,omitempty"`
	Actor     string         `json:"actor"`
	Action    string         `json:"action"`
	Subject   string         `json:"subject,omitempty"`
	OldValue  string         `json:"old_value,omitempty"`
	NewValue  string         `json:"new_value,omitempty"`
	Detail    map[string]any `json:"detail,omitempty"`
}

// Audit appends an entry to the audit log.
func (s *Store) Audit(ctx context.Context, e AuditEntry) error { return audit(ctx, s.Pool, e) }

func audit(ctx context.Context, q querier, e AuditEntry) error {
	var channelID *int64
	if e.ChannelID != 0 {
		channelID = &e.ChannelID
	}
	_, err := q.Exec(ctx, `INSERT INTO audit_log (channel_id, channel, actor, action, subject, old_value, new_value, detail)
		VALUES ($1, NULLIF($2, ''), $3, $4, NULLIF($5, ''), NULLIF($6, ''), NULLIF($7, ''), $8)`,
		channelID, e.Channel, e.Actor, e.Action, e.Subject, e.OldValue, e.NewValue, e.Detail)
	return err
}

// AuditLog returns the latest n entries of a channel (all channels when channel is
// ""), newest first, optionally only those whose action starts with actionPrefix.
func (s *Store) AuditLog(ctx context.Context, channel, actionPrefix string, n int) ([]AuditEntry, error) {
	rows, err := s.Pool.Query(ctx, `SELECT id, at, COALESCE(channel, ''), actor, action, COALESCE(subject, ''),
			COALESCE(old_value, ''), COALESCE(new_value, ''), detail
		FROM audit_log WHERE ($1 = '' OR channel = $1) AND action LIKE $2 || '%'
		ORDER BY id DESC LIMIT $3`, channel, actionPrefix, n)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (AuditEntry, error) {
		var e AuditEntry
		err := row.Scan(&e.ID, &e.At, &e.Channel, &e.Actor, &e.Action, &e.Subject, &e.OldValue, &e.NewValue, &e.Detail)
		return e, err
	})
}
