package ekm

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ekmsync/ekmsync/internal/ekm/ekmtest"
)

// inMemoryClient returns an http.Client whose requests are served by h in memory.
func inMemoryClient(h http.Handler) *http.Client { return ekmtest.Client(h) }

// countingHandler serves requests with f and counts them.
func countingHandler(f http.HandlerFunc) (http.Handler, *atomic.Int32) {
	calls := new(atomic.Int32)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		f(w, r)
	}), calls
}

// staticTokens is a TokenSource for client tests: ForceRefresh swaps in next.
type staticTokens struct {
	mu     sync.Mutex
	token  string
	next   string
	forced int
}

func (s *staticTokens) Token(context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.token, nil
}

func (s *staticTokens) ForceRefresh(_ context.Context, stale string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forced++
	if s.token == stale && s.next != "" {
		s.token = s.next
	}
	return s.token, nil
}

// newTestClient returns a client against h in memory with a static token and a
// budget large enough never to wait, unless cfg says otherwise.
func newTestClient(t *testing.T, h http.Handler, cfg Config) *Client {
	t.Helper()
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = inMemoryClient(h)
	}
	if cfg.Tokens == nil {
		cfg.Tokens = &staticTokens{token: "access-1"}
	}
	if cfg.Budget == nil {
		cfg.Budget = NewBudget(1e6, 1e6)
	}
	cfg.BaseURL = "http://ekm.test"
	return New(cfg)
}

// writeEnvelope answers with EKM's envelope around data.
func writeEnvelope(w http.ResponseWriter, status int, data any, meta map[string]any) {
	if meta == nil {
		meta = map[string]any{}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"meta": meta, "links": []any{}, "validation_result": nil, "errors": nil, "data": data,
	})
}

// writeValidation answers with EKM's envelope carrying one validation message.
func writeValidation(w http.ResponseWriter, status int, member, message string) {
	var members any
	if member != "" {
		members = []string{member}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"meta": map[string]any{}, "links": []any{}, "data": nil, "errors": nil,
		"validation_result": []any{map[string]any{"member_names": members, "error_message": message}},
	})
}

// sampleOrder returns a valid order's JSON fields.
func sampleOrder(id int64) map[string]any {
	return map[string]any{
		"id": id, "order_number": fmt.Sprintf("1/010124/%d", id), "order_date": "2024-01-01T10:00:00.0000000Z",
		"order_type": "", "status": "PENDING", "payment_status": "SUCCESS", "transaction_id": "T1",
	}
}

// logBuffer is a concurrency-safe log sink for asserting what was logged.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// debugLogger returns a logger that writes everything to a logBuffer.
func debugLogger() (*slog.Logger, *logBuffer) {
	lb := &logBuffer{}
	return slog.New(slog.NewTextHandler(lb, &slog.HandlerOptions{Level: slog.LevelDebug})), lb
}
