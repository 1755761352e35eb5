package ekmsim

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// EKM rate-limits each (application, merchant) pair with a leaky bucket: every
// request adds its cost (1), the bucket leaks continuously at a fixed rate,
// and a request that would overflow it gets 429 ([SW] "Rate Limits").

// bucketKey identifies one bucket: one client on one shop.
type bucketKey struct {
	clientID, shop string
}

type bucket struct {
	level float64
	last  time.Time
}

// limiter holds the buckets; it has its own lock so that rate accounting never
// waits for a store write.
type limiter struct {
	mu      sync.Mutex
	size    int
	leak    float64 // requests per second
	buckets map[bucketKey]*bucket
}

// requestCost is what one request adds to a bucket ([SW]: each request costs 1).
const requestCost = 1

// limitResult is the outcome of accounting one request.
type limitResult struct {
	allowed   bool
	remaining int     // whole requests left after this one
	excess    float64 // what the next request would overflow the bucket by (0 or less: it fits)
	size      int
	leak      float64
}

func newLimiter(size int, leak float64) *limiter {
	return &limiter{size: size, leak: leak, buckets: map[bucketKey]*bucket{}}
}

// take accounts one request against the key's bucket at time now.
func (l *limiter) take(key bucketKey, now time.Time) limitResult {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		b = &bucket{last: now}
		l.buckets[key] = b
	}
	if elapsed := now.Sub(b.last); elapsed > 0 {
		b.level = max(0, b.level-elapsed.Seconds()*l.leak)
		b.last = now
	}
	res := limitResult{size: l.size, leak: l.leak}
	size := float64(l.size)
	if b.level+requestCost <= size {
		b.level += requestCost
		res.allowed = true
	} else if throttledRequestsFill {
		b.level = min(size, b.level+requestCost)
	}
	res.remaining = int(math.Floor(size - b.level + 1e-9))
	res.excess = b.level + requestCost - size
	return res
}

// retryAfter is the Retry-After of a 429 answered with this result, from the
// bucket or injected. It is formatted only then, not for every request.
func (res limitResult) retryAfter() string { return retryAfterValue(res.excess, res.leak) }

// acceleratedLeak is the leak rate above which a bucket is a test's accelerated
// EKM: its Retry-After and leak interval are in fractions of a second, so that
// the waits a 429 imposes speed up with the bucket (a whole second would be
// hundreds of requests).
const acceleratedLeak = 10

// retryAfterValue is the Retry-After of a 429 when the bucket holds excess more
// than it can take (0 or less for an injected 429: one request's leak time):
// whole seconds, at least 1, at EKM's own rates; seconds with a fraction in an
// accelerated bucket.
func retryAfterValue(excess, leak float64) string {
	if leak <= 0 {
		return "3600"
	}
	wait := max(excess, requestCost) / leak
	if leak > acceleratedLeak {
		return strconv.FormatFloat(math.Ceil(wait*1000)/1000, 'f', -1, 64)
	}
	return strconv.Itoa(max(1, int(math.Ceil(wait-1e-9))))
}

// set changes the bucket size and leak rate; current levels are kept and
// capped at the new size.
func (l *limiter) set(size int, leak float64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.size, l.leak = size, leak
	for _, b := range l.buckets {
		b.level = min(b.level, float64(size))
	}
}

// reset empties every bucket.
func (l *limiter) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	clear(l.buckets)
}

// setHeaders adds EKM's X-EKM-RateLimit-* headers.
func (res limitResult) setHeaders(h http.Header) {
	h.Set("X-EKM-RateLimit-Cost", strconv.Itoa(requestCost))
	h.Set("X-EKM-RateLimit-BucketSize", strconv.Itoa(res.size))
	interval, amount := strconv.Itoa(leakIntervalSeconds), strconv.FormatFloat(res.leak*leakIntervalSeconds, 'f', -1, 64)
	if res.leak > acceleratedLeak {
		// An accelerated bucket leaks continuously: say so as one request per
		// fraction of a second, so that a client keeps no leak step free.
		interval, amount = strconv.FormatFloat(1/res.leak, 'f', -1, 64), "1"
	}
	h.Set("X-EKM-RateLimit-LeakRate", interval)
	h.Set("X-EKM-RateLimit-LeakAmount", amount)
	h.Set("X-EKM-RateLimit-Remaining", strconv.Itoa(max(0, res.remaining)))
}

// writeRateLimited writes the 429 answer: an envelope with a validation
// message and Retry-After (both ASSUMED, see rateLimitMessage in assumed.go).
func writeRateLimited(w http.ResponseWriter, retryAfter string) {
	w.Header().Set("Retry-After", retryAfter)
	writeValidation(w, http.StatusTooManyRequests, nil, rateLimitMessage)
}
