package observe

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ekmsync/ekmsync/internal/ekm"
)

// EKM watches a channel's EKM traffic; shop.Connector calls it for each channel's
// client. The zero value is ready to use.
type EKM struct {
	// Store, if set, records EKM's 429s per channel (store.RecordThrottle) for the
	// notifications, which every worker process sees alike.
	Store interface {
		RecordThrottle(ctx context.Context, channelName string) error
	}
	// Logger receives a warning when a 429 cannot be recorded; nil discards.
	Logger *slog.Logger

	mu      sync.Mutex
	written map[string]time.Time // when each channel's 429 was last recorded
}

// throttleWriteEvery bounds the writes of 429s: one per channel and process at
// most this often, whatever EKM answers.
const throttleWriteEvery = 10 * time.Second

// throttled records a 429 of the channel in the background, so that the request
// never waits for PostgreSQL.
func (e *EKM) throttled(channel string) {
	if e.Store == nil {
		return
	}
	e.mu.Lock()
	now := time.Now()
	if now.Sub(e.written[channel]) < throttleWriteEvery {
		e.mu.Unlock()
		return
	}
	if e.written == nil {
		e.written = map[string]time.Time{}
	}
	e.written[channel] = now
	e.mu.Unlock()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := e.Store.RecordThrottle(ctx, channel); err != nil && e.Logger != nil {
			e.Logger.Warn("could not record EKM's 429 for the notifications", "channel", channel, "err", err)
		}
	}()
}

// Transport wraps next (nil: http.DefaultTransport) so that every request of the
// channel is counted by endpoint and status, and every call of the token endpoint
// by result. It reads only the method, the path and the status: never a header,
// a query or a body, which may hold secrets.
func (e *EKM) Transport(channel string, next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	// Made at zero now, so that dashboards and alerts see the series before the
	// first refresh.
	for _, r := range []string{"ok", "rejected", "error"} {
		tokenRefreshes.WithLabelValues(channel, r)
	}
	return &countingTransport{channel: channel, next: next, ekm: e}
}

// BudgetWait records how long one request of the channel waited for its budget.
func (*EKM) BudgetWait(_ string, p ekm.Priority, waited time.Duration) {
	budgetWait.WithLabelValues(p.String()).Observe(waited.Seconds())
}

type countingTransport struct {
	channel string
	next    http.RoundTripper
	ekm     *EKM
}

func (t *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	status := "error"
	if err == nil {
		status = strconv.Itoa(resp.StatusCode)
	}
	endpoint := Endpoint(req.Method, req.URL.Path)
	ekmRequests.WithLabelValues(t.channel, endpoint, status).Inc()
	if err == nil && resp.StatusCode == http.StatusTooManyRequests {
		t.ekm.throttled(t.channel)
	}
	if endpoint == "POST /connect/token" {
		result := "error"
		switch {
		case err == nil && resp.StatusCode/100 == 2:
			result = "ok"
		case err == nil && (resp.StatusCode == 400 || resp.StatusCode == 401 || resp.StatusCode == 403):
			result = "rejected"
		}
		tokenRefreshes.WithLabelValues(t.channel, result).Inc()
	}
	return resp, err
}

// Endpoint is the metric label of a request: its method and path with every
// segment that holds a digit (an order, product or webhook id) as {id}, so that the
// label set stays small whatever ids EKM's answers lead to. A path outside EKM's
// API and token endpoint is "other".
func Endpoint(method, path string) string {
	if !strings.HasPrefix(path, "/api/") && path != "/connect/token" {
		return method + " other"
	}
	segs := strings.Split(strings.Trim(path, "/"), "/")
	if len(segs) > 8 {
		return method + " other"
	}
	for i, s := range segs {
		if strings.ContainsAny(s, "0123456789") && i > 1 || len(s) > 32 {
			segs[i] = "{id}"
		}
	}
	return method + " /" + strings.ToLower(strings.Join(segs, "/"))
}
