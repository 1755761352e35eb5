package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// The outbound ledger of orders (order_outbound): what EKM has confirmed of each
// despatch and cancellation. Triggers on orders and order_lines (migration 004)
// open a row as soon as the hub ships or cancels an order, however it does so; the
// push reads the open rows, and records each step in its row right after EKM
// confirms it, so that a retry after a crash never sends a step twice.

// Outbound kinds of order_outbound.
const (
	KindDespatch     = "despatch"
	KindCancellation = "cancellation"
)

// Outcomes recorded in order_outbound.outcome.
const (
	OutcomeSent             = "sent"
	OutcomeAlreadyOnEKM     = "already on EKM"
	OutcomeShippedOnChannel = "not sent: shipped on the channel"
	OutcomePartial          = "not sent: partial"
	OutcomeCancelledOnEKM   = "not sent: cancelled on the channel"
	OutcomeNothingCancelled = "not sent: nothing cancelled"
)

// Step is one call of a despatch, recorded as confirmed once EKM answers it.
type Step string

// The steps of a despatch (tracking, notes, status) and of a cancellation (status).
const (
	StepTracking Step = "tracking"
	StepNotes    Step = "notes"
	StepStatus   Step = "status"
)

// OrderWork is one open row of the ledger, with what the push needs to act on it.
// Its fields are in the order OrderWork selects them.
type OrderWork struct {
	OrderID           int64    `json:"order_id"`
	Kind              string   `json:"kind"`
	EKMOrderID        int64    `json:"ekm_order_id"`
	OrderNumber       string   `json:"order_number"`
	Status            string   `json:"status"`
	CancelledBy       string   `json:"cancelled_by,omitempty"`
	ShippedOnChannel  bool     `json:"shipped_on_channel"`
	PartlyCancelled   bool     `json:"partly_cancelled"`
	TrackingConfirmed bool     `json:"tracking_confirmed"`
	NotesConfirmed    bool     `json:"notes_confirmed"`
	StatusConfirmed   bool     `json:"status_confirmed"`
	HeldReason        string   `json:"held_reason,omitempty"`
	Attempts          int      `json:"attempts"`
	Parcels           []Parcel `json:"parcels,omitempty" db:"-"`
}

// Selections of open ledger rows: what the push can send, and what it records
// without EKM.
const (
	// workDespatch: shipped orders with their parcels written.
	workDespatch = `ob.kind = 'despatch' AND o.status = 'shipped'
		AND EXISTS (SELECT 1 FROM shipments s WHERE s.order_id = o.id)`
	// workFullCancel: orders the hub cancelled in full.
	workFullCancel = `ob.kind = 'cancellation' AND o.status = 'cancelled' AND o.cancelled_by = 'hub'`
	// workOtherCancel: cancellation rows that are not full hub cancellations
	// (partial ones, and orders since cancelled on the channel or reopened).
	workOtherCancel = `ob.kind = 'cancellation' AND NOT (o.status = 'cancelled' AND o.cancelled_by IS NOT DISTINCT FROM 'hub')`
)

// WorkSet names a selection of open ledger rows.
type WorkSet int

// The selections.
const (
	Despatches WorkSet = iota
	FullCancellations
	OtherCancellations
)

func (w WorkSet) where() string {
	switch w {
	case Despatches:
		return workDespatch
	case FullCancellations:
		return workFullCancel
	default:
		return workOtherCancel
	}
}

// OrderWork returns up to limit open ledger rows of a channel in the set, oldest
// order first, leaving out those that EKM rejected and whose backoff has not
// passed at now.
func (s *Store) OrderWork(ctx context.Context, channelID int64, set WorkSet, now time.Time, limit int) ([]OrderWork, error) {
	rows, err := s.Pool.Query(ctx, `SELECT o.id, ob.kind, o.ekm_order_id, o.order_number, o.status, COALESCE(o.cancelled_by, ''),
			o.shipped_on_channel,
			EXISTS (SELECT 1 FROM order_lines l WHERE l.order_id = o.id AND l.cancelled_quantity > 0),
			ob.tracking_confirmed_at IS NOT NULL, ob.notes_confirmed_at IS NOT NULL, ob.status_confirmed_at IS NOT NULL,
			COALESCE(ob.held_reason, ''), ob.attempts
		FROM order_outbound ob JOIN orders o ON o.id = ob.order_id
		WHERE ob.done_at IS NULL AND o.channel_id = $1 AND `+set.where()+`
			AND (ob.retry_after IS NULL OR ob.retry_after <= $2)
		ORDER BY o.id LIMIT $3`, channelID, now, limit)
	if err != nil {
		return nil, err
	}
	work, err := pgx.CollectRows(rows, pgx.RowToStructByPos[OrderWork])
	if err != nil {
		return nil, err
	}
	if set == Despatches {
		for i := range work {
			if work[i].Parcels, err = orderParcels(ctx, s.Pool, work[i].OrderID); err != nil {
				return nil, err
			}
		}
	}
	return work, nil
}

// Held is an order whose outbound work was newly held, for the audit log.
type Held struct {
	OrderID     int64
	OrderNumber string
}

// HoldOrderWork marks every open row of the set held with reason (Despatch Notes
// off, no status mapped...), and returns the rows newly held and how many are held
// in all. Rows already held for the same reason are not rewritten.
func (s *Store) HoldOrderWork(ctx context.Context, channelID int64, set WorkSet, reason string) (newly []Held, total int, err error) {
	err = pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `UPDATE order_outbound ob SET held_reason = $2, updated_at = now()
			FROM orders o WHERE o.id = ob.order_id AND ob.done_at IS NULL AND o.channel_id = $1 AND `+set.where()+`
				AND ob.held_reason IS DISTINCT FROM $2
			RETURNING o.id, o.order_number`, channelID, reason)
		if err != nil {
			return err
		}
		if newly, err = pgx.CollectRows(rows, pgx.RowToStructByPos[Held]); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT count(*) FROM order_outbound ob JOIN orders o ON o.id = ob.order_id
			WHERE ob.done_at IS NULL AND o.channel_id = $1 AND `+set.where(), channelID).Scan(&total)
	})
	return newly, total, err
}

// OrderStep records what EKM confirmed of one order's outbound work.
type OrderStep struct {
	OrderID int64
	Kind    string
	// Step, if set, is the step EKM confirmed (or showed already done).
	Step Step
	// Outcome, if set, closes the row: the work is done.
	Outcome string
	At      time.Time
	// UnlessFullCancel closes the record only if the hub has not meanwhile
	// cancelled the order in full: a partial cancellation recorded as not sent must
	// not swallow the full one that came while the push was deciding.
	UnlessFullCancel bool
}

// RecordOrderStep records a confirmed step, or the end of the work, with its audit
// entry in the same transaction: once EKM has answered, the ledger and the audit
// log say so together. It also clears a hold, the last error and any backoff.
func (s *Store) RecordOrderStep(ctx context.Context, st OrderStep, entry *AuditEntry) error {
	set := `held_reason = NULL, last_error = NULL, retry_after = NULL, updated_at = now()`
	args := []any{st.OrderID, st.Kind, st.At}
	if col := stepColumn[st.Step]; col != "" {
		set += `, ` + col + ` = COALESCE(` + col + `, $3)`
	}
	if st.Outcome != "" {
		set += `, done_at = $3, outcome = $4`
		args = append(args, st.Outcome)
	} else {
		set += `, last_attempt_at = GREATEST(last_attempt_at, $3)`
	}
	where := `order_id = $1 AND kind = $2`
	if st.UnlessFullCancel {
		where += ` AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = order_outbound.order_id AND o.status = 'cancelled' AND o.cancelled_by = 'hub')`
	}
	return pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE order_outbound SET `+set+` WHERE `+where, args...)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 && st.UnlessFullCancel {
			return nil // cancelled in full meanwhile: the record stays open for the next pass
		}
		if tag.RowsAffected() != 1 {
			return fmt.Errorf("order %d has no %s record", st.OrderID, st.Kind)
		}
		if entry == nil {
			return nil
		}
		return audit(ctx, tx, *entry)
	})
}

// stepColumn is the column that records a step's confirmation.
var stepColumn = map[Step]string{StepTracking: "tracking_confirmed_at", StepNotes: "notes_confirmed_at", StepStatus: "status_confirmed_at"}

// FailOrderWork records why an attempt failed. retryAfter, when set, keeps the row
// out of the push until then (EKM rejected it); a transient failure leaves it nil,
// as Temporal retries the activity.
func (s *Store) FailOrderWork(ctx context.Context, orderID int64, kind, message string, retryAfter *time.Time, entry *AuditEntry) error {
	return pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE order_outbound SET last_error = $3, retry_after = $4, updated_at = now()
			WHERE order_id = $1 AND kind = $2`, orderID, kind, truncate(message, 2000), retryAfter); err != nil {
			return err
		}
		if entry == nil {
			return nil
		}
		return audit(ctx, tx, *entry)
	})
}
