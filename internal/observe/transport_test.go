package observe

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestEndpointKeepsLabelsFew: ids in a path become {id}, so that the endpoint
// label has one value per API call, whatever ids EKM's answers lead to.
func TestEndpointKeepsLabelsFew(t *testing.T) {
	for _, tc := range []struct{ method, path, want string }{
		{"GET", "/api/v2/orders/7", "GET /api/v2/orders/{id}"},
		{"PUT", "/api/v2/orders/12345/deliveryTracking", "PUT /api/v2/orders/{id}/deliverytracking"},
		{"GET", "/api/v1/products/search", "GET /api/v1/products/search"},
		{"PUT", "/api/v1/products/3/variants/31/stock", "PUT /api/v1/products/{id}/variants/{id}/stock"},
		{"DELETE", "/api/v2/Webhooks/0d0c", "DELETE /api/v2/webhooks/{id}"},
		{"POST", "/connect/token", "POST /connect/token"},
		{"GET", "/anything/else", "GET other"},
		{"GET", "/api/v1/a/b/c/d/e/f/g/h", "GET other"},
	} {
		if got := Endpoint(tc.method, tc.path); got != tc.want {
			t.Errorf("Endpoint(%s, %s) = %q, want %q", tc.method, tc.path, got, tc.want)
		}
	}
}

// TestTransportCountsRequestsAndRefreshes: each answer counts once by channel,
// endpoint and status; a token call also counts as a refresh by result.
func TestTransportCountsRequestsAndRefreshes(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/connect/token":
			w.WriteHeader(http.StatusBadRequest) // invalid_grant
		case "/api/v2/orders/9":
			w.WriteHeader(http.StatusTooManyRequests)
		}
	}))
	defer srv.Close()
	rec := &throttleRecorder{calls: make(chan string, 10)}
	hc := &http.Client{Transport: (&EKM{Store: rec}).Transport("t-transport", nil)}
	for _, path := range []string{"/connect/token", "/api/v2/orders/9", "/api/v2/orders/9"} {
		method := "GET"
		if path == "/connect/token" {
			method = "POST"
		}
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	// Two 429s in a row are recorded for the notifications once.
	if ch := <-rec.calls; ch != "t-transport" {
		t.Errorf("recorded a 429 of %q", ch)
	}
	if len(rec.calls) != 0 {
		t.Errorf("two 429s within %s recorded %d times more", throttleWriteEvery, len(rec.calls))
	}
	if n := testutil.ToFloat64(ekmRequests.WithLabelValues("t-transport", "GET /api/v2/orders/{id}", "429")); n != 2 {
		t.Errorf("429s counted %v, want 2", n)
	}
	if n := testutil.ToFloat64(tokenRefreshes.WithLabelValues("t-transport", "rejected")); n != 1 {
		t.Errorf("rejected refreshes %v, want 1", n)
	}
	if n := testutil.ToFloat64(tokenRefreshes.WithLabelValues("t-transport", "ok")); n != 0 {
		t.Errorf("ok refreshes %v, want 0", n)
	}
}

type throttleRecorder struct{ calls chan string }

func (r *throttleRecorder) RecordThrottle(_ context.Context, channel string) error {
	r.calls <- channel
	return nil
}
