package observe

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ekmsync/ekmsync/internal/ekm"
)

// EKM watches a channel's EKM traffic; shop.Connector calls it for each channel's
// client. The zero value is ready to use.
type EKM struct{}

// Transport wraps next (nil: http.DefaultTransport) so that every request of the
// channel is counted by endpoint and status, and every call of the token endpoint
// by result. It reads only the method, the path and the status: never a header,
// a query or a body, which may hold secrets.
func (EKM) Transport(channel string, next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	// Made at zero now, so that dashboards and alerts see the series before the
	// first refresh.
	for _, r := range []string{"ok", "rejected", "error"} {
		tokenRefreshes.WithLabelValues(channel, r)
	}
	return &countingTransport{channel: channel, next: next}
}

// BudgetWait records how long one request of the channel waited for its budget.
func (EKM) BudgetWait(_ string, p ekm.Priority, waited time.Duration) {
	budgetWait.WithLabelValues(p.String()).Observe(waited.Seconds())
}

type countingTransport struct {
	channel string
	next    http.RoundTripper
}

func (t *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	status := "error"
	if err == nil {
		status = strconv.Itoa(resp.StatusCode)
	}
	endpoint := Endpoint(req.Method, req.URL.Path)
	ekmRequests.WithLabelValues(t.channel, endpoint, status).Inc()
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
