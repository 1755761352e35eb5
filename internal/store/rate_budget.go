package store

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/ekmsync/ekmsync/internal/ekm"
)

// RateBudgets returns the process's rate budgets, one per channel, whose buckets
// are shared through the table ekm_rate_budget with every other process that
// serves the channel (docs/rate-budget.md), starting from EKM's default bucket.
func (s *Store) RateBudgets() *ekm.Budgets {
	return ekm.NewSharedBudgets(ekm.DefaultBucketSize, ekm.DefaultLeakPerSecond, s.RateBucket)
}

// RateBucket returns the channel's shared EKM bucket.
func (s *Store) RateBucket(channel string) ekm.SharedBucket {
	return &rateBucket{s: s, channel: channel}
}

// rateBucket is one channel's row of ekm_rate_budget. Every figure of time comes
// from the database's clock, so that workers on machines whose clocks disagree
// leak the bucket alike.
type rateBucket struct {
	s       *Store
	channel string
	made    atomic.Bool // the row exists
}

// Take implements ekm.SharedBucket: under the row's lock, leak the level up to
// now and count one request if it fits below limit. It is one statement, one
// round trip, since every EKM request of the channel waits for it.
func (r *rateBucket) Take(ctx context.Context, limit, leak float64) (wait time.Duration, level float64, err error) {
	if err := r.ensure(ctx); err != nil {
		return 0, 0, err
	}
	var leaked float64
	var blocked *time.Time
	var now time.Time
	err = r.s.Pool.QueryRow(ctx, takeSQL, r.channel, limit, leak).Scan(&level, &leaked, &blocked, &now)
	if errors.Is(err, pgx.ErrNoRows) {
		r.made.Store(false) // removed meanwhile: made again on the next call
		err = errors.New("the row is missing")
	}
	if err != nil {
		return 0, 0, fmt.Errorf("take a request from the shared rate budget of channel %s: %w", r.channel, err)
	}
	switch {
	case level > leaked: // counted
	case blocked != nil && blocked.After(now):
		wait = blocked.Sub(now)
	default:
		wait = time.Duration(math.Ceil((leaked + 1 - limit) / leak * float64(time.Second)))
	}
	return wait, level, nil
}

// takeSQL is Take: $1 channel, $2 limit, $3 leak a second. The clock may be read
// before the row's lock is granted, so now is at least the leaked_at another
// process just wrote: the level then leaks too little for a moment, never too
// much. The UPDATE acts on the row cur locked, as it stands after the lock.
const takeSQL = `
WITH cur AS (
    SELECT level, leaked_at, blocked_until, greatest(clock_timestamp(), leaked_at) AS now
    FROM ekm_rate_budget WHERE channel = $1 FOR UPDATE
), calc AS (
    SELECT now, blocked_until, greatest(0, level - extract(epoch FROM now - leaked_at)::float8 * $3) AS leaked
    FROM cur
), upd AS (
    UPDATE ekm_rate_budget b SET
        level = calc.leaked + CASE WHEN (calc.blocked_until IS NULL OR calc.blocked_until <= calc.now)
                                    AND calc.leaked + 1 <= $2 + 1e-9 THEN 1 ELSE 0 END,
        leaked_at = calc.now
    FROM calc WHERE b.channel = $1
    RETURNING b.level
)
SELECT upd.level, calc.leaked, calc.blocked_until, calc.now FROM upd, calc`

// Raise implements ekm.SharedBucket.
func (r *rateBucket) Raise(ctx context.Context, counted, leak float64) error {
	return r.update(ctx, leak, func(level float64, st *bucketState) float64 { return math.Max(level, counted) })
}

// Block implements ekm.SharedBucket.
func (r *rateBucket) Block(ctx context.Context, size, leak float64, retryAfter time.Duration) error {
	return r.update(ctx, leak, func(level float64, st *bucketState) float64 {
		if until := st.now.Add(retryAfter); until.After(st.blockedUntil) {
			st.blockedUntil = until
		}
		return math.Max(level, size)
	})
}

// Shape implements ekm.SharedBucket.
func (r *rateBucket) Shape(ctx context.Context) (ekm.BucketShape, bool, error) {
	if err := r.ensure(ctx); err != nil {
		return ekm.BucketShape{}, false, err
	}
	var size, leak, step *float64
	err := r.s.Pool.QueryRow(ctx, `SELECT size, leak, step FROM ekm_rate_budget WHERE channel = $1`, r.channel).Scan(&size, &leak, &step)
	if errors.Is(err, pgx.ErrNoRows) {
		r.made.Store(false)
		return ekm.BucketShape{}, false, nil
	}
	if err != nil || size == nil || leak == nil || step == nil {
		return ekm.BucketShape{}, false, err
	}
	return ekm.BucketShape{Size: *size, Leak: *leak, Step: *step}, true, nil
}

// Learn implements ekm.SharedBucket. Figures EKM could not have meant (not
// positive) are refused rather than stored for every process.
func (r *rateBucket) Learn(ctx context.Context, shape ekm.BucketShape) error {
	if !(shape.Size > 0 && shape.Leak > 0 && shape.Step > 0) {
		return fmt.Errorf("the rate bucket shape %+v of channel %s is not positive", shape, r.channel)
	}
	if err := r.ensure(ctx); err != nil {
		return err
	}
	_, err := r.s.Pool.Exec(ctx, `UPDATE ekm_rate_budget SET size = $2, leak = $3, step = $4 WHERE channel = $1`,
		r.channel, shape.Size, shape.Leak, shape.Step)
	return err
}

// update leaks the level up to now and sets it to what change makes of it.
func (r *rateBucket) update(ctx context.Context, leak float64, change func(level float64, st *bucketState) float64) error {
	if err := r.ensure(ctx); err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, r.s.Pool, func(tx pgx.Tx) error {
		st, err := r.lock(ctx, tx)
		if err != nil {
			return err
		}
		level := change(st.leaked(leak), &st)
		var blocked *time.Time
		if !st.blockedUntil.IsZero() {
			blocked = &st.blockedUntil
		}
		_, err = tx.Exec(ctx, `UPDATE ekm_rate_budget SET level = $2, leaked_at = $3, blocked_until = $4 WHERE channel = $1`,
			r.channel, level, st.now, blocked)
		return err
	})
}

// bucketState is a row as read under its lock.
type bucketState struct {
	level        float64
	leakedAt     time.Time
	blockedUntil time.Time // zero: never blocked
	now          time.Time // the database's clock, never before leakedAt
}

// leaked is the level leaked from leakedAt up to now.
func (st bucketState) leaked(leak float64) float64 {
	return math.Max(0, st.level-st.now.Sub(st.leakedAt).Seconds()*leak)
}

// lock reads the row under its lock. The clock may be read before the lock was
// granted, so now is at least the leaked_at another process just wrote: the
// level then leaks too little for a moment, never too much.
func (r *rateBucket) lock(ctx context.Context, tx pgx.Tx) (bucketState, error) {
	var st bucketState
	var blocked *time.Time
	err := tx.QueryRow(ctx, `SELECT level, leaked_at, blocked_until, clock_timestamp() FROM ekm_rate_budget WHERE channel = $1 FOR UPDATE`,
		r.channel).Scan(&st.level, &st.leakedAt, &blocked, &st.now)
	if errors.Is(err, pgx.ErrNoRows) {
		r.made.Store(false) // removed meanwhile: made again on the next call
		return st, errors.New("the row is missing")
	}
	if err != nil {
		return st, err
	}
	if blocked != nil {
		st.blockedUntil = *blocked
	}
	if st.now.Before(st.leakedAt) {
		st.now = st.leakedAt
	}
	return st, nil
}

// ensure makes the channel's row, empty, on first use.
func (r *rateBucket) ensure(ctx context.Context) error {
	if r.made.Load() {
		return nil
	}
	_, err := r.s.Pool.Exec(ctx, `INSERT INTO ekm_rate_budget (channel) VALUES ($1) ON CONFLICT DO NOTHING`, r.channel)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P01" { // undefined_table
		return errors.New("the database has no table ekm_rate_budget (migration 009): run 'starter migrate', or start the worker, which migrates")
	}
	if err != nil {
		return fmt.Errorf("create the shared rate budget of channel %s: %w", r.channel, err)
	}
	r.made.Store(true)
	return nil
}
