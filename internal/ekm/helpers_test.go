package ekm

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// handlerTransport is an in-memory RoundTripper that serves requests with an
// http.Handler. Inside testing/synctest it lets fake time pass instantly, which a
// real socket would not.
type handlerTransport struct{ h http.Handler }

// RoundTrip implements http.RoundTripper. A handler that aborts (panics with
// http.ErrAbortHandler, as a server does to reset a connection) or hijacks the
// connection becomes a transport error, as it would over a socket.
func (t handlerTransport) RoundTrip(req *http.Request) (resp *http.Response, err error) {
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	served := req.Clone(req.Context())
	served.Body = http.NoBody
	if req.Body != nil {
		body, rerr := io.ReadAll(req.Body)
		if rerr != nil {
			return nil, rerr
		}
		served.Body = io.NopCloser(bytes.NewReader(body))
	}
	defer func() {
		if r := recover(); r != nil {
			if r != http.ErrAbortHandler {
				panic(r)
			}
			resp, err = nil, errors.New("connection reset by peer (handler aborted)")
		}
	}()
	rec := &hijackableRecorder{ResponseRecorder: httptest.NewRecorder()}
	t.h.ServeHTTP(rec, served)
	if rec.hijacked {
		return nil, errors.New("connection reset by peer")
	}
	res := rec.Result()
	res.Request = req
	return res, nil
}

// hijackableRecorder records a response and notes a Hijack, so that a handler
// that closes the connection is seen as a reset.
type hijackableRecorder struct {
	*httptest.ResponseRecorder
	hijacked bool
}

// Hijack hands the handler one end of a pipe whose other end is closed, and
// marks the exchange as a reset.
func (r *hijackableRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	r.hijacked = true
	local, remote := net.Pipe()
	_ = remote.Close()
	return local, bufio.NewReadWriter(bufio.NewReader(local), bufio.NewWriter(local)), nil
}

// inMemoryClient returns an http.Client whose requests are served by h in memory.
func inMemoryClient(h http.Handler) *http.Client {
	return &http.Client{Transport: handlerTransport{h: h}}
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
