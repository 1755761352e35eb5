package ekm

import (
	"context"
	"math"
	"time"
)

// SharedBucket is one channel's bucket as every process that serves the channel
// sees it (store.Store keeps it in PostgreSQL; docs/rate-budget.md says why).
// A Budget with a SharedBucket still queues its own callers by priority, and the
// head of its queue asks the shared bucket for each request: so each grant is one
// request, and a process that dies holds nothing but the requests it sent, which
// EKM counted too and which leak away as the bucket does.
//
// The implementation measures time by one clock for every process (the
// database's), so that workers whose clocks disagree still leak alike.
type SharedBucket interface {
	// Take counts one request when the bucket's level, leaked at leak requests a
	// second up to now, leaves it room below limit (level+1 ≤ limit) and no 429
	// blocks it, and returns a zero wait; else it counts nothing and returns how
	// long until the request would fit. level is the bucket's level after.
	Take(ctx context.Context, limit, leak float64) (wait time.Duration, level float64, err error)
	// Raise lifts the bucket's level to at least counted: EKM's own count, learnt
	// from a response, which includes requests nobody else reported.
	Raise(ctx context.Context, counted, leak float64) error
	// Block records a 429: the bucket is full (level at least size), and nothing
	// is granted for retryAfter.
	Block(ctx context.Context, size, leak float64, retryAfter time.Duration) error
	// Shape is the bucket's shape as a process last learnt it from EKM's headers
	// (Learn), or ok false when none has yet.
	Shape(ctx context.Context) (shape BucketShape, ok bool, err error)
	// Learn records the bucket's shape, learnt from EKM's headers, for every
	// process that serves the channel.
	Learn(ctx context.Context, shape BucketShape) error
}

// BucketShape is a bucket's size and leak as EKM's rate headers give them.
type BucketShape struct {
	Size float64 // requests
	Leak float64 // requests leaked a second
	Step float64 // requests leaked per interval
}

// sharedMargin is the room, in requests, a shared bucket keeps below each
// capacity. Requests granted by several processes reach EKM in an order a few
// milliseconds apart from their grants; at 2 a second, 0.1 request is 50 ms of
// such jitter. It costs a burst a tenth of a request once, the sustained rate
// nothing.
const sharedMargin = 0.1

// sharedCallTimeout bounds a Raise or Block, which no caller's context carries.
const sharedCallTimeout = 5 * time.Second

// NewSharedBudget returns a budget whose bucket is shared through shared, for a
// bucket of size requests leaking leakPerSecond until the headers say otherwise
// (non-positive values take EKM's defaults).
func NewSharedBudget(size, leakPerSecond float64, shared SharedBucket) *Budget {
	b := NewBudget(size, leakPerSecond)
	b.shared = shared
	return b
}

// NewSharedBudgets returns a registry whose budgets share each channel's bucket
// through share(channel), with the given starting bucket size and leak rate.
func NewSharedBudgets(size, leakPerSecond float64, share func(channel string) SharedBucket) *Budgets {
	return &Budgets{size: size, leak: leakPerSecond, share: share}
}

// acquireShared is acquire for a budget with a shared bucket. The head of the
// process's queue (the highest priority, then the oldest) asks the shared bucket
// up to the capacity of its own priority; the reserves then order the processes'
// heads as they order one process's callers: an order may fill the bucket, a
// listing request only up to four below, so that an order in any process finds
// room at once while others' listing requests wait.
func (b *Budget) acquireShared(ctx context.Context, p Priority) (uint64, error) {
	b.readSharedShape(ctx)
	w := &waiter{p: p, wake: make(chan struct{}, 1)}
	b.mu.Lock()
	b.enqueue(w)
	for {
		wait := time.Duration(-1) // not the head: wait to become it
		if b.queue[0] == w {
			limit := math.Max(1, b.capacity(p)-sharedMargin)
			leak := b.leak
			b.mu.Unlock()
			got, level, err := b.shared.Take(ctx, limit, leak)
			b.mu.Lock()
			if err != nil {
				b.remove(w)
				b.wakeHead()
				b.mu.Unlock()
				if ctx.Err() != nil {
					return 0, ctx.Err()
				}
				return 0, &Error{Kind: KindRetryable, Err: err}
			}
			b.level, b.last = level, time.Now()
			if got <= 0 {
				b.seq++
				seq := b.seq
				b.inflight = append(b.inflight, seq)
				if b.grantedAt == nil {
					b.grantedAt = map[uint64]time.Time{}
				}
				b.grantedAt[seq] = time.Now()
				b.remove(w)
				b.wakeHead()
				b.mu.Unlock()
				return seq, nil
			}
			wait = got
		}
		if err := b.park(ctx, w, wait); err != nil {
			b.mu.Unlock()
			return 0, err
		}
	}
}

// readSharedShape takes, once, the bucket's shape another process learnt, so that
// a process that has not yet seen EKM's headers does not take the shop's bucket
// for EKM's default one: against a bigger bucket that others keep busy, it would
// wait for the level to leak down to the default's size. A failure leaves the
// shape to the next call; Take fails and says why.
func (b *Budget) readSharedShape(ctx context.Context) {
	b.mu.Lock()
	known := b.shapeKnown
	b.mu.Unlock()
	if known {
		return
	}
	shape, ok, err := b.shared.Shape(ctx)
	if err != nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.shapeKnown && ok {
		b.size, b.leak, b.step = shape.Size, shape.Leak, shape.Step
	}
	b.shapeKnown = true
}

// learnShared records a shape learnt from EKM's headers for the other processes;
// a failure is dropped as in raiseShared (the next change tries again).
func (b *Budget) learnShared(shape BucketShape) {
	ctx, cancel := context.WithTimeout(context.Background(), sharedCallTimeout)
	defer cancel()
	_ = b.shared.Learn(ctx, shape)
}

// raiseShared passes EKM's count to the shared bucket. A failure is dropped: the
// count only ever makes the bucket more careful, and a database that cannot be
// reached fails the next Take anyway.
func (b *Budget) raiseShared(counted, leak float64) {
	ctx, cancel := context.WithTimeout(context.Background(), sharedCallTimeout)
	defer cancel()
	_ = b.shared.Raise(ctx, counted, leak)
}

// blockShared passes a 429 to the shared bucket, so that every process waits it
// out; a failure is dropped as in raiseShared.
func (b *Budget) blockShared(size, leak float64, retryAfter time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), sharedCallTimeout)
	defer cancel()
	_ = b.shared.Block(ctx, size, leak, retryAfter)
}
