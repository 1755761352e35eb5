package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// What 'starter push status' shows of the order ledger.

// OrderRecord is one ledger row as the operator sees it.
type OrderRecord struct {
	OrderID           int64      `json:"order_id"`
	EKMOrderID        int64      `json:"ekm_order_id"`
	OrderNumber       string     `json:"order_number"`
	Kind              string     `json:"kind"`
	Outcome           string     `json:"outcome,omitempty"`
	HeldReason        string     `json:"held_reason,omitempty"`
	LastError         string     `json:"last_error,omitempty"`
	Attempts          int        `json:"attempts"`
	TrackingConfirmed *time.Time `json:"tracking_confirmed_at,omitempty"`
	NotesConfirmed    *time.Time `json:"notes_confirmed_at,omitempty"`
	StatusConfirmed   *time.Time `json:"status_confirmed_at,omitempty"`
	DoneAt            *time.Time `json:"done_at,omitempty"`
	LastAttemptAt     *time.Time `json:"last_attempt_at,omitempty"`
	RetryAfter        *time.Time `json:"retry_after,omitempty"`
}

// OrderCounts counts a channel's ledger rows of one kind.
type OrderCounts struct {
	// Pending rows can be sent now or at the next pass (neither held nor failed).
	Pending int `json:"pending"`
	// Waiting rows are shipped orders whose parcels are not written yet.
	Waiting int `json:"waiting,omitempty"`
	Held    int `json:"held"`
	Failed  int `json:"failed"`
	Done    int `json:"done"`
}

// OrderOutboundCounts counts a channel's ledger rows by kind.
func (s *Store) OrderOutboundCounts(ctx context.Context, channelID int64) (map[string]OrderCounts, error) {
	rows, err := s.Pool.Query(ctx, `SELECT ob.kind,
			count(*) FILTER (WHERE ob.done_at IS NULL AND ob.held_reason IS NULL AND ob.last_error IS NULL
				AND (ob.kind <> 'despatch' OR EXISTS (SELECT 1 FROM shipments s WHERE s.order_id = o.id))),
			count(*) FILTER (WHERE ob.done_at IS NULL AND ob.kind = 'despatch' AND o.status = 'shipped'
				AND NOT EXISTS (SELECT 1 FROM shipments s WHERE s.order_id = o.id)),
			count(*) FILTER (WHERE ob.done_at IS NULL AND ob.held_reason IS NOT NULL),
			count(*) FILTER (WHERE ob.done_at IS NULL AND ob.held_reason IS NULL AND ob.last_error IS NOT NULL),
			count(*) FILTER (WHERE ob.done_at IS NOT NULL)
		FROM order_outbound ob JOIN orders o ON o.id = ob.order_id
		WHERE o.channel_id = $1 GROUP BY ob.kind`, channelID)
	if err != nil {
		return nil, err
	}
	out := map[string]OrderCounts{KindDespatch: {}, KindCancellation: {}}
	var kind string
	var c OrderCounts
	_, err = pgx.ForEachRow(rows, []any{&kind, &c.Pending, &c.Waiting, &c.Held, &c.Failed, &c.Done}, func() error {
		out[kind] = c
		return nil
	})
	return out, err
}

// Which ledger rows OrderRecords returns.
const (
	RecordsHeld   = "held"
	RecordsFailed = "failed"
	RecordsDone   = "done"
	RecordsOpen   = "open"
)

// OrderRecords returns up to limit ledger rows of a channel: held, failed, open
// (oldest first) or done (latest first).
func (s *Store) OrderRecords(ctx context.Context, channelID int64, which string, limit int) ([]OrderRecord, error) {
	where, order := `ob.done_at IS NULL`, `o.id`
	switch which {
	case RecordsHeld:
		where += ` AND ob.held_reason IS NOT NULL`
	case RecordsFailed:
		where += ` AND ob.held_reason IS NULL AND ob.last_error IS NOT NULL`
	case RecordsDone:
		where, order = `ob.done_at IS NOT NULL`, `ob.done_at DESC, o.id DESC`
	}
	rows, err := s.Pool.Query(ctx, `SELECT o.id, o.ekm_order_id, o.order_number, ob.kind, COALESCE(ob.outcome, ''),
			COALESCE(ob.held_reason, ''), COALESCE(ob.last_error, ''), ob.attempts, ob.tracking_confirmed_at,
			ob.notes_confirmed_at, ob.status_confirmed_at, ob.done_at, ob.last_attempt_at, ob.retry_after
		FROM order_outbound ob JOIN orders o ON o.id = ob.order_id
		WHERE o.channel_id = $1 AND `+where+` ORDER BY `+order+` LIMIT $2`, channelID, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[OrderRecord])
}
