package ekmsim

import (
	"maps"
	"net/http"
	"strconv"
	"sync"
)

// requestStats counts the requests each route received and how they were
// answered, so tests can assert how many calls a sync made and how often it
// was throttled.
type requestStats struct {
	mu          sync.Mutex
	byRoute     map[string]int
	byStatus    map[string]int
	byClient    map[string]int
	rateLimited int
	bucketFull  int
}

// RequestStats is a snapshot of the request counters (GET /admin/requests).
type RequestStats struct {
	// ByRoute counts requests per method and route template, e.g.
	// "GET /api/v2/orders/{id}" or "POST /connect/token".
	ByRoute map[string]int `json:"by_route"`
	// ByStatus counts answers per HTTP status ("200", "429", ...); a
	// connection reset without an answer counts as "reset".
	ByStatus map[string]int `json:"by_status"`
	// ByClient counts the API requests each OAuth client made with a valid
	// token (whatever the answer), so that a test can attribute cost.
	ByClient map[string]int `json:"by_client"`
	// RateLimited counts 429 answers, from the bucket or injected.
	RateLimited int `json:"rate_limited"`
	// BucketLimited counts the 429s the shop's rate limit answered because the
	// client's bucket was full: the clients' own overdraft, which Faults.RateLimited
	// (the injected ones) leaves out.
	BucketLimited int `json:"bucket_limited"`
	// Faults counts the injected faults by kind.
	Faults FaultCounts `json:"faults"`
}

func newRequestStats() *requestStats {
	return &requestStats{byRoute: map[string]int{}, byStatus: map[string]int{}, byClient: map[string]int{}}
}

// request counts one request to a route, as it arrives, so the count is
// visible before the client has the answer.
func (rs *requestStats) request(route string) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.byRoute[route]++
}

// client counts one API request of an authenticated client.
func (rs *requestStats) client(id string) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.byClient[id]++
}

// answered counts one answer by status (0 for a connection cut without one),
// as its header is written.
func (rs *requestStats) answered(status int) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	key := strconv.Itoa(status)
	if status == 0 {
		key = "reset"
	}
	rs.byStatus[key]++
	if status == http.StatusTooManyRequests {
		rs.rateLimited++
	}
}

func (rs *requestStats) snapshot() RequestStats {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return RequestStats{ByRoute: maps.Clone(rs.byRoute), ByStatus: maps.Clone(rs.byStatus), ByClient: maps.Clone(rs.byClient),
		RateLimited: rs.rateLimited, BucketLimited: rs.bucketFull}
}

// bucketLimited counts one 429 of a full bucket (not an injected one).
func (rs *requestStats) bucketLimited() {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.bucketFull++
}

func (rs *requestStats) reset() {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	clear(rs.byRoute)
	clear(rs.byStatus)
	clear(rs.byClient)
	rs.rateLimited, rs.bucketFull = 0, 0
}

// statusWriter reports the status a handler answers with when the header is
// written, before any of the body reaches the client. Unwrap lets
// http.ResponseController reach the connection (for the reset fault).
type statusWriter struct {
	http.ResponseWriter
	reported bool
	answered func(status int)
}

// WriteHeader reports the first status written.
func (w *statusWriter) WriteHeader(status int) {
	w.report(status)
	w.ResponseWriter.WriteHeader(status)
}

// Write reports an implicit 200 before the first body bytes.
func (w *statusWriter) Write(p []byte) (int, error) {
	w.report(http.StatusOK)
	return w.ResponseWriter.Write(p)
}

// cut reports a connection cut without an answer; the reset fault calls it
// before closing, so the count is there before the client sees the reset.
func (w *statusWriter) cut() { w.report(0) }

func (w *statusWriter) report(status int) {
	if !w.reported {
		w.reported = true
		w.answered(status)
	}
}

// Unwrap returns the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// RequestCounts returns the number of requests per method and route template,
// e.g. "GET /api/v2/orders/search" or "POST /connect/token". Admin routes are
// not counted.
func (s *Sim) RequestCounts() map[string]int { return s.stats.snapshot().ByRoute }

// RequestStats returns the request counters, including answers per status, the
// number of 429s and the injected faults by kind.
func (s *Sim) RequestStats() RequestStats {
	rs := s.stats.snapshot()
	rs.Faults = s.faults.counted()
	return rs
}
