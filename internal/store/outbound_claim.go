package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
)

// Claims of order outbound rows (migration 008): one attempt of the push at a
// time may call EKM for a row. A claim is a lease on the database's clock, so
// that workers whose clocks differ agree on when it expires.

// ClaimOrderWork claims the open row of w for owner for lease, unless another
// owner holds a claim that has not expired, and counts the attempt. It returns the
// row's confirmations as they stand now (another attempt may have confirmed steps
// since w was read) and whether the claim was taken; a row closed meanwhile is not
// claimed.
func (s *Store) ClaimOrderWork(ctx context.Context, w OrderWork, owner string, lease time.Duration, at time.Time) (OrderWork, bool, error) {
	err := s.Pool.QueryRow(ctx, `UPDATE order_outbound
		SET claimed_by = $3, claimed_until = now() + $4::interval, attempts = attempts + 1, last_attempt_at = $5, updated_at = now()
		WHERE order_id = $1 AND kind = $2 AND done_at IS NULL
			AND (claimed_by IS NULL OR claimed_by = $3 OR claimed_until <= now())
		RETURNING tracking_confirmed_at IS NOT NULL, notes_confirmed_at IS NOT NULL, status_confirmed_at IS NOT NULL, attempts - 1`,
		w.OrderID, w.Kind, owner, lease, at).Scan(&w.TrackingConfirmed, &w.NotesConfirmed, &w.StatusConfirmed, &w.Attempts)
	if errors.Is(err, pgx.ErrNoRows) {
		return w, false, nil
	}
	return w, err == nil, err
}

// RenewOrderClaim extends owner's claim on the row by lease from now, and reports
// whether owner still held it (neither expired nor taken, the row still open).
func (s *Store) RenewOrderClaim(ctx context.Context, orderID int64, kind, owner string, lease time.Duration) (bool, error) {
	tag, err := s.Pool.Exec(ctx, `UPDATE order_outbound SET claimed_until = now() + $4::interval
		WHERE order_id = $1 AND kind = $2 AND claimed_by = $3 AND claimed_until > now() AND done_at IS NULL`,
		orderID, kind, owner, lease)
	return err == nil && tag.RowsAffected() == 1, err
}

// ReleaseOrderClaim ends owner's claim on the row, if it still holds it.
func (s *Store) ReleaseOrderClaim(ctx context.Context, orderID int64, kind, owner string) error {
	_, err := s.Pool.Exec(ctx, `UPDATE order_outbound SET claimed_by = NULL, claimed_until = NULL
		WHERE order_id = $1 AND kind = $2 AND claimed_by = $3`, orderID, kind, owner)
	return err
}
