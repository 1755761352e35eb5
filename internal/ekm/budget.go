package ekm

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// EKM's documented leaky bucket (docs/ekm-api.md §8): 40 requests, leaking 2 per second.
// The real figures are learnt from the X-EKM-RateLimit-* headers of every response.
const (
	DefaultBucketSize    = 40
	DefaultLeakPerSecond = 2
)

// Rate-limit headers EKM sends with every response.
const (
	headerRemaining  = "X-EKM-RateLimit-Remaining"
	headerBucketSize = "X-EKM-RateLimit-BucketSize"
	headerLeakRate   = "X-EKM-RateLimit-LeakRate"
	headerLeakAmount = "X-EKM-RateLimit-LeakAmount"
)

// Budget is a client-side model of EKM's leaky bucket for one channel, shared by
// every caller in the process, so that the client itself never provokes a 429.
//
// The model holds the bucket's level (requests counted and not yet leaked),
// leaking continuously at the learnt rate. Acquire adds one request when it fits;
// Observe reconciles the level with the server's X-EKM-RateLimit-Remaining.
// Waiters are served strictly by priority, then first come first served. It uses
// time.Now and timers directly, so testing/synctest can run it on a fake clock.
type Budget struct {
	mu           sync.Mutex
	size         float64              // bucket size in requests
	leak         float64              // requests leaked per second
	level        float64              // requests in the bucket by the model
	last         time.Time            // when level was last leaked
	step         float64              // requests leaked per interval, the server's leak granularity
	headroom     float64              // requests kept free below size; see Penalize
	seq          uint64               // sequence number of the last granted request
	inflight     []uint64             // granted requests not yet observed, in grant order
	blockedUntil time.Time            // no grant before this (set by Penalize)
	queue        []*waiter            // waiting callers, by priority then arrival
	shared       SharedBucket         // nil: the bucket is this process's alone
	grantedAt    map[uint64]time.Time // with shared: when each request in flight was granted
	shapeKnown   bool                 // with shared: the shape was read from it or learnt from EKM
}

// waiter is one caller blocked in Acquire.
type waiter struct {
	p    Priority
	wake chan struct{} // signalled when the waiter may have become the head
}

// NewBudget returns a budget for a bucket of size requests leaking leakPerSecond;
// non-positive values take EKM's defaults (40 and 2). The bucket starts empty,
// and its leak is taken to come in one step a second until the headers say
// otherwise.
func NewBudget(size, leakPerSecond float64) *Budget {
	if size <= 0 {
		size = DefaultBucketSize
	}
	if leakPerSecond <= 0 {
		leakPerSecond = DefaultLeakPerSecond
	}
	return &Budget{size: size, leak: leakPerSecond, step: leakPerSecond, last: time.Now()}
}

// Acquire waits until one request at priority p can be sent without exceeding the
// bucket, counts it, and returns nil; or returns ctx's error. Every successful
// Acquire must be followed by exactly one Observe once the request is answered or
// has failed.
func (b *Budget) Acquire(ctx context.Context, p Priority) error {
	_, err := b.acquire(ctx, p)
	return err
}

// acquire is Acquire returning the request's sequence number, which the client
// hands back to observe so that the reconciliation knows which requests were
// granted after this one.
func (b *Budget) acquire(ctx context.Context, p Priority) (uint64, error) {
	p = p.normalize()
	if b.shared != nil {
		return b.acquireShared(ctx, p)
	}
	w := &waiter{p: p, wake: make(chan struct{}, 1)}
	b.mu.Lock()
	b.enqueue(w)
	for {
		wait := time.Duration(-1) // not the head: wait to become it
		if b.queue[0] == w {
			wait = b.waitFor(p, time.Now())
			if wait <= 0 {
				b.level++
				b.seq++
				seq := b.seq
				b.inflight = append(b.inflight, seq)
				b.queue = b.queue[1:]
				b.wakeHead()
				b.mu.Unlock()
				return seq, nil
			}
		}
		if err := b.park(ctx, w, wait); err != nil {
			b.mu.Unlock()
			return 0, err
		}
	}
}

// park waits, with b.mu held on entry and on return, until w is woken, wait
// passes (a negative wait: no timer, as for a caller that is not the queue's
// head), or ctx ends; then w leaves the queue and ctx's error is returned.
func (b *Budget) park(ctx context.Context, w *waiter, wait time.Duration) error {
	var fire <-chan time.Time
	if wait >= 0 {
		timer := time.NewTimer(wait)
		defer timer.Stop()
		fire = timer.C
	}
	b.mu.Unlock()
	var err error
	select {
	case <-w.wake:
	case <-fire:
	case <-ctx.Done():
		err = ctx.Err()
	}
	b.mu.Lock()
	if err != nil {
		b.remove(w)
		b.wakeHead()
	}
	return err
}

// enqueue inserts w after every waiter of equal or higher priority.
func (b *Budget) enqueue(w *waiter) {
	i := len(b.queue)
	for i > 0 && b.queue[i-1].p < w.p {
		i--
	}
	b.queue = append(b.queue, nil)
	copy(b.queue[i+1:], b.queue[i:])
	b.queue[i] = w
}

// remove takes w out of the queue.
func (b *Budget) remove(w *waiter) {
	for i, q := range b.queue {
		if q == w {
			b.queue = append(b.queue[:i], b.queue[i+1:]...)
			return
		}
	}
}

// wakeHead tells the first waiter to re-examine the bucket.
func (b *Budget) wakeHead() {
	if len(b.queue) == 0 {
		return
	}
	select {
	case b.queue[0].wake <- struct{}{}:
	default:
	}
}

// leakTo drains the model's level up to now.
func (b *Budget) leakTo(now time.Time) {
	if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
		b.level = math.Max(0, b.level-elapsed*b.leak)
		b.last = now
	}
}

// waitFor returns how long a request at priority p must wait from now; zero or
// less means it may go. The small tolerance absorbs float rounding, so a waiter
// woken by its timer is not sent back to sleep for a nanosecond.
func (b *Budget) waitFor(p Priority, now time.Time) time.Duration {
	if now.Before(b.blockedUntil) {
		return b.blockedUntil.Sub(now)
	}
	b.leakTo(now)
	excess := b.level + 1 - b.capacity(p)
	if excess <= 1e-9 {
		return 0
	}
	return time.Duration(math.Ceil(excess / b.leak * float64(time.Second)))
}

// capacity is the level up to which requests at priority p are granted: the
// bucket's size less the headroom and the priority's reserve, but always room
// for one request.
func (b *Budget) capacity(p Priority) float64 {
	return math.Max(1, b.size-b.headroom-p.reserve())
}

// Observe records the response to the oldest acquired request still in flight and
// syncs the model with EKM's rate headers; a nil header means the request got no
// response. The client itself matches each response to its own request.
func (b *Budget) Observe(h http.Header) {
	b.mu.Lock()
	var seq uint64
	if len(b.inflight) > 0 {
		seq = b.inflight[0]
	}
	b.mu.Unlock()
	b.observe(seq, h)
}

// observe reconciles the model with the response to request seq.
//
// X-EKM-RateLimit-Remaining is the room the server had, in whole requests, right
// after counting request seq, so BucketSize − Remaining is the level it counted.
// The model never assumes more room than that. When the server's count exceeds
// the model's by a whole request or more, something the model cannot see uses
// the bucket (another process, or a bucket not empty when this one started): the
// level becomes the server's count plus the requests granted after seq and still
// in flight, which the server may not have counted yet. Otherwise the model's own
// count, which includes every request in flight, stands: adding in-flight
// requests to the server's count then would count twice those the server
// answered before this one, costing a concurrent burst several requests. The
// level falls only by leaking, so a late response carrying an older, roomier
// Remaining cannot let a burst through.
func (b *Budget) observe(seq uint64, h http.Header) {
	b.mu.Lock()
	shape := BucketShape{Size: b.size, Leak: b.leak, Step: b.step}
	raise, counted, leak := b.observeLocked(seq, h)
	learnt := BucketShape{Size: b.size, Leak: b.leak, Step: b.step}
	if learnt != shape {
		b.shapeKnown = true
	}
	b.mu.Unlock()
	if b.shared != nil && learnt != shape {
		b.learnShared(learnt)
	}
	if raise {
		b.raiseShared(counted, leak)
	}
}

// observeLocked is observe under b.mu; when a shared bucket must learn what EKM
// surely holds, it returns that level and the leak rate.
func (b *Budget) observeLocked(seq uint64, h http.Header) (raise bool, counted, leak float64) {
	granted, known := b.grantedAt[seq]
	delete(b.grantedAt, seq)
	later := 0
	for i, s := range b.inflight {
		if s == seq {
			b.inflight = append(b.inflight[:i], b.inflight[i+1:]...)
			later = len(b.inflight) - i
			break
		}
	}
	if h == nil {
		return false, 0, 0
	}
	b.leakTo(time.Now())
	before := b.level // a shared bucket's level is at least this
	if size, ok := headerFloat(h, headerBucketSize); ok && size > 0 {
		b.size = size
	}
	// ASSUMED (docs/ekm-api.md §8): LeakRate is the leak interval in seconds and
	// LeakAmount the requests leaked per interval.
	amount, okAmount := headerFloat(h, headerLeakAmount)
	interval, okInterval := headerFloat(h, headerLeakRate)
	if okAmount && okInterval && amount > 0 && interval > 0 {
		b.leak = amount / interval
		b.step = amount
	}
	if remaining, ok := headerFloat(h, headerRemaining); ok {
		counted = b.size - math.Max(0, remaining)
		if counted >= b.level+1 {
			// The server counts a whole request more than the model: someone
			// else uses the bucket. Trust the server, and add the requests
			// granted after this one, which it may not have counted yet.
			b.level = counted + float64(later)
		}
		b.level = math.Max(b.level, counted)
		if b.shared != nil && known {
			// Remaining is in whole requests, and EKM counted them when the
			// request arrived: now EKM surely holds more than counted−1 less
			// what has leaked since the grant. A shared bucket already counts
			// every request of every process; lifting it to counted would
			// throw its margin away with every response and, for an answer
			// that took long, count leaked requests again.
			counted = counted - 1 - time.Since(granted).Seconds()*b.leak
			raise = counted > before
		}
	}
	b.wakeHead()
	return raise, counted, b.leak
}

// Penalize records a 429: the server says the bucket is full, and retryAfter (if
// positive) is the earliest time it will accept a request again.
//
// A 429 also means the server held more than the model allowed for. The likely
// cause is that the model leaks continuously while the server leaks in steps
// (EKM: "2 tokens every 1 s"), so that just before a step the server holds up to
// one step more than the model. From the first 429 on, the budget therefore
// keeps one leak step (at most a quarter of the bucket) free: that costs a burst
// two requests, never the sustained rate, and against a server that leaks
// continuously (as the simulator does) it is never paid at all.
func (b *Budget) Penalize(retryAfter time.Duration) {
	b.mu.Lock()
	b.penalizeLocked(retryAfter)
	size, leak := b.size, b.leak
	b.mu.Unlock()
	if b.shared != nil {
		b.blockShared(size, leak, retryAfter)
	}
}

// penalizeLocked is Penalize under b.mu, for this process's model.
func (b *Budget) penalizeLocked(retryAfter time.Duration) {
	now := time.Now()
	b.leakTo(now)
	b.headroom = math.Min(b.step, b.size/4)
	b.level = math.Max(b.level, b.size)
	if until := now.Add(retryAfter); until.After(b.blockedUntil) {
		b.blockedUntil = until
	}
	b.wakeHead()
}

// Rate returns the sustainable request rate in requests per second (the leak
// rate), for estimating how long a download of many pages will take.
func (b *Budget) Rate() float64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.leak
}

// Available returns how many requests the bucket would accept now by the model,
// ignoring the per-priority reserves.
func (b *Budget) Available() float64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.leakTo(time.Now())
	return math.Max(0, b.size-b.level)
}

// AvailableFor returns how many requests at priority p the bucket would grant now
// without waiting: the room below p's capacity (the size less the headroom and the
// room p must leave to higher priorities). An estimate of a listing download's
// finish needs this burst, not Available, since the reserve is never its to use.
func (b *Budget) AvailableFor(p Priority) float64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.leakTo(time.Now())
	return math.Max(0, b.capacity(p)-b.level)
}

// CapacityFor returns how many requests at priority p an empty bucket grants at
// once: the burst a listing download starts with, which its estimate leaves out
// of the pace it measures.
func (b *Budget) CapacityFor(p Priority) float64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.capacity(p.normalize())
}

// Size returns the bucket size as last learnt.
func (b *Budget) Size() float64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.size
}

// headerFloat parses a numeric header.
func headerFloat(h http.Header, name string) (float64, bool) {
	v := h.Get(name)
	if v == "" {
		return 0, false
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// Budgets hands out one Budget per channel, so that every activity of the process
// that talks to one shop draws on the same bucket. The zero value is ready to use
// with EKM's default bucket.
type Budgets struct {
	mu        sync.Mutex
	size      float64
	leak      float64
	share     func(channel string) SharedBucket // nil: each budget is the process's own
	byChannel map[string]*Budget
}

// NewBudgets returns a registry whose budgets start with the given bucket
// size and leak rate (non-positive values take EKM's defaults).
func NewBudgets(size, leakPerSecond float64) *Budgets {
	return &Budgets{size: size, leak: leakPerSecond}
}

// For returns the channel's budget, creating it on first use.
func (bs *Budgets) For(channel string) *Budget {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	if bs.byChannel == nil {
		bs.byChannel = make(map[string]*Budget)
	}
	b, ok := bs.byChannel[channel]
	if !ok {
		b = NewBudget(bs.size, bs.leak)
		if bs.share != nil {
			b.shared = bs.share(channel)
		}
		bs.byChannel[channel] = b
	}
	return b
}
