package ekmsim

import (
	"net/http"
	"strings"
	"sync"
)

// Hostile are the answers of a misbehaving shop, for tests of the client's
// bounds (GET and PUT /admin/hostile). The zero value is a well-behaved shop.
type Hostile struct {
	// RetryAfter, if set, is the Retry-After of every 429 instead of the
	// bucket's, e.g. "1000000" (seconds) or an HTTP date.
	RetryAfter string `json:"retry_after,omitempty"`
	// RepeatPage makes every list and search endpoint answer its first
	// answer since the setting again, whatever page or filter is asked: the
	// same page forever, with its paging meta.
	RepeatPage bool `json:"repeat_page,omitempty"`
	// StalePages is how many list or search answers repeat the previous
	// answer of the same endpoint (a stale cache), once each; each one used
	// up counts down. Answers are remembered only while it is above 0.
	StalePages int `json:"stale_pages,omitempty"`
}

// hostility applies Hostile to API answers.
type hostility struct {
	mu   sync.Mutex
	h    Hostile
	last map[string]*bufferedResponse // per list route: the answer to repeat
}

// SetHostile makes the shop misbehave as h says (the zero value stops it) and
// forgets the answers remembered so far.
func (s *Sim) SetHostile(h Hostile) {
	s.hostile.mu.Lock()
	defer s.hostile.mu.Unlock()
	s.hostile.h, s.hostile.last = h, nil
}

// Hostile returns how the shop misbehaves.
func (s *Sim) Hostile() Hostile {
	s.hostile.mu.Lock()
	defer s.hostile.mu.Unlock()
	return s.hostile.h
}

// listRoute reports whether pattern is a paged list or search endpoint.
func listRoute(pattern string) bool {
	return strings.HasPrefix(pattern, "GET ") &&
		(strings.HasSuffix(pattern, "/orders") || strings.HasSuffix(pattern, "/products") ||
			strings.HasSuffix(pattern, "/search"))
}

// wrap returns w, or (with a Retry-After set) a writer that puts it on 429s.
func (hs *hostility) wrap(w http.ResponseWriter) http.ResponseWriter {
	hs.mu.Lock()
	ra := hs.h.RetryAfter
	hs.mu.Unlock()
	if ra == "" {
		return w
	}
	return &retryAfterWriter{ResponseWriter: w, value: ra}
}

// serve runs h for a request of pattern, or answers a remembered answer
// instead (RepeatPage, StalePages).
func (hs *hostility) serve(pattern string, h http.HandlerFunc, w http.ResponseWriter, r *http.Request) {
	if !listRoute(pattern) {
		h(w, r)
		return
	}
	hs.mu.Lock()
	set, prev := hs.h, hs.last[pattern]
	if prev != nil && (set.RepeatPage || set.StalePages > 0) {
		if !set.RepeatPage {
			hs.h.StalePages--
		}
		hs.mu.Unlock()
		replay(w, prev)
		return
	}
	hs.mu.Unlock()
	if !set.RepeatPage && set.StalePages <= 0 {
		h(w, r)
		return
	}
	buf := &bufferedResponse{header: http.Header{}, status: http.StatusOK}
	h(buf, r)
	if buf.status == http.StatusOK {
		hs.mu.Lock()
		if hs.last == nil {
			hs.last = map[string]*bufferedResponse{}
		}
		hs.last[pattern] = buf
		hs.mu.Unlock()
	}
	replay(w, buf)
}

// replay writes a remembered answer.
func replay(w http.ResponseWriter, b *bufferedResponse) {
	for k, v := range b.header {
		if k != "Content-Length" {
			w.Header()[k] = v
		}
	}
	w.WriteHeader(b.status)
	_, _ = w.Write(b.body.Bytes())
}

// retryAfterWriter replaces the Retry-After of a 429.
type retryAfterWriter struct {
	http.ResponseWriter
	value string
}

// WriteHeader sets the hostile Retry-After on a 429.
func (w *retryAfterWriter) WriteHeader(status int) {
	if status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", w.value)
	}
	w.ResponseWriter.WriteHeader(status)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *retryAfterWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// cut reports a connection cut to the counting writer beneath.
func (w *retryAfterWriter) cut() {
	if c, ok := w.ResponseWriter.(interface{ cut() }); ok {
		c.cut()
	}
}
