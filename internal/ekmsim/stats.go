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
	rateLimited int
}

// RequestStats is a snapshot of the request counters (GET /admin/requests).
type RequestStats struct {
	// ByRoute counts requests per method and route template, e.g.
	// "GET /api/v2/orders/{id}" or "POST /connect/token".
	ByRoute map[string]int `json:"by_route"`
	// ByStatus counts answers per HTTP status ("200", "429", ...); a
	// connection reset without an answer counts as "reset".
	ByStatus map[string]int `json:"by_status"`
	// RateLimited counts 429 answers, from the bucket or injected.
	RateLimited int `json:"rate_limited"`
}

func newRequestStats() *requestStats {
	return &requestStats{byRoute: map[string]int{}, byStatus: map[string]int{}}
}

// record counts one answered request.
func (rs *requestStats) record(route string, status int) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.byRoute[route]++
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
	return RequestStats{ByRoute: maps.Clone(rs.byRoute), ByStatus: maps.Clone(rs.byStatus), RateLimited: rs.rateLimited}
}

func (rs *requestStats) reset() {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	clear(rs.byRoute)
	clear(rs.byStatus)
	rs.rateLimited = 0
}

// statusWriter remembers the status a handler answered with. Unwrap lets
// http.ResponseController reach the connection (for the reset fault).
type statusWriter struct {
	http.ResponseWriter
	status int
}

// WriteHeader records the first status written.
func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

// Write records an implicit 200 before the first body bytes.
func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

// Unwrap returns the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// RequestCounts returns the number of requests per method and route template,
// e.g. "GET /api/v2/orders/search" or "POST /connect/token". Admin routes are
// not counted.
func (s *Sim) RequestCounts() map[string]int { return s.stats.snapshot().ByRoute }

// RequestStats returns the request counters, including answers per status and
// the number of 429s.
func (s *Sim) RequestStats() RequestStats { return s.stats.snapshot() }
