package ekm

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

func TestRequestsCarryBearerAcceptAndJSONBody(t *testing.T) {
	var got []*http.Request
	var bodies []string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, r)
		bodies = append(bodies, string(b))
		writeEnvelope(w, 200, sampleOrder(7), nil)
	})
	c := newTestClient(t, h, Config{UserAgent: "ekmsync-test"})
	if _, err := c.GetOrder(t.Context(), 7); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateOrderStatus(t.Context(), 7, OrderStatusUpdate{Status: "DISPATCHED", EmailCustomer: true}); err != nil {
		t.Fatal(err)
	}
	get, put := got[0], got[1]
	if get.Method != "GET" || get.URL.Path != "/api/v2/orders/7" {
		t.Errorf("GET went to %s %s", get.Method, get.URL.Path)
	}
	for _, r := range got {
		if a := r.Header.Get("Authorization"); a != "Bearer access-1" {
			t.Errorf("Authorization = %q", a)
		}
		if a := r.Header.Get("Accept"); a != "application/json" {
			t.Errorf("Accept = %q", a)
		}
		if ua := r.Header.Get("User-Agent"); ua != "ekmsync-test" {
			t.Errorf("User-Agent = %q", ua)
		}
	}
	if get.Header.Get("Content-Type") != "" || bodies[0] != "" {
		t.Errorf("GET carried a body: %q %q", get.Header.Get("Content-Type"), bodies[0])
	}
	if put.Method != "PUT" || put.URL.Path != "/api/v2/orders/7/status" || put.Header.Get("Content-Type") != "application/json" {
		t.Errorf("PUT went to %s %s with %q", put.Method, put.URL.Path, put.Header.Get("Content-Type"))
	}
	if want := `{"status":"DISPATCHED","email_customer":true}`; strings.TrimSpace(bodies[1]) != want {
		t.Errorf("PUT body = %s, want %s", bodies[1], want)
	}
}

func TestBeforeRequestErrorStopsTheCallAndIsReturnedUnchanged(t *testing.T) {
	disabled := errors.New("channel disabled")
	var calls atomic.Int32
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls.Add(1) })
	budget := NewBudget(40, 2)
	c := newTestClient(t, h, Config{Budget: budget, BeforeRequest: func(context.Context) error { return disabled }})
	_, err := c.Currency(t.Context())
	if err != disabled {
		t.Fatalf("err = %v, want the gate's error unchanged", err)
	}
	if calls.Load() != 0 {
		t.Errorf("the request was sent %d times", calls.Load())
	}
	if budget.Available() != 40 {
		t.Errorf("the gated call used budget: %v left", budget.Available())
	}
}

func TestServerErrorIsRetriedUpToMaxAttemptsThenRetryable(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, calls := countingHandler(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusBadGateway)
		})
		c := newTestClient(t, h, Config{MaxAttempts: 3})
		_, err := c.Currency(t.Context())
		e := AsError(err)
		if e == nil || e.Kind != KindRetryable || e.Status != 502 || !IsRetryable(err) {
			t.Fatalf("err = %v, want retryable 502", err)
		}
		if calls.Load() != 3 {
			t.Errorf("calls = %d, want 3", calls.Load())
		}
	})
}

func TestServerErrorThenSuccessReturnsTheResult(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var calls atomic.Int32
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if calls.Add(1) == 1 {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			writeEnvelope(w, 200, map[string]any{"currency_code": "GBP"}, nil)
		})
		c := newTestClient(t, h, Config{})
		cur, err := c.Currency(t.Context())
		if err != nil || cur.CurrencyCode != "GBP" {
			t.Fatalf("Currency = %+v, %v", cur, err)
		}
		if calls.Load() != 2 {
			t.Errorf("calls = %d, want 2", calls.Load())
		}
	})
}

func TestRateLimitedWaitsRetryAfterThenSucceeds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var times []time.Time
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			times = append(times, time.Now())
			if len(times) == 1 {
				w.Header().Set("Retry-After", "2")
				w.WriteHeader(http.StatusTooManyRequests)
				return
			}
			writeEnvelope(w, 200, map[string]any{"currency_code": "GBP"}, nil)
		})
		c := newTestClient(t, h, Config{})
		if _, err := c.Currency(t.Context()); err != nil {
			t.Fatal(err)
		}
		if len(times) != 2 {
			t.Fatalf("calls = %d, want 2", len(times))
		}
		if gap := times[1].Sub(times[0]); gap < 2*time.Second {
			t.Errorf("retried after %s, before Retry-After", gap)
		}
	})
}

// 429s are waited out up to MaxThrottled, apart from the failed attempts: the
// call then returns the 429 with the wait the rate headers give.
func TestRateLimitedAfterMaxThrottledCarriesRetryAfterFromRateHeaders(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, calls := countingHandler(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set(headerRemaining, "0")
			w.Header().Set(headerLeakRate, "1")
			w.Header().Set(headerLeakAmount, "4")
			w.WriteHeader(http.StatusTooManyRequests)
		})
		c := newTestClient(t, h, Config{MaxAttempts: 2, MaxThrottled: 4})
		_, err := c.Currency(t.Context())
		if KindOf(err) != KindRateLimited || !IsRetryable(err) {
			t.Fatalf("err = %v, want rate limited", err)
		}
		if got := RetryAfter(err); got != 250*time.Millisecond {
			t.Errorf("RetryAfter = %s, want 250ms (one request at 4 per second)", got)
		}
		if calls.Load() != 5 {
			t.Errorf("calls = %d, want 5 (the first and 4 waited out)", calls.Load())
		}
	})
}

// A burst of 429s does not use up the attempts a server error may need.
func TestBurstOf429sThenServerErrorStillSucceeds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var n int
		h, calls := countingHandler(func(w http.ResponseWriter, r *http.Request) {
			n++
			switch {
			case n <= 6:
				w.Header().Set("Retry-After", "1")
				w.WriteHeader(http.StatusTooManyRequests)
			case n <= 8:
				w.WriteHeader(http.StatusBadGateway)
			default:
				writeEnvelope(w, 200, map[string]any{"currency_code": "GBP"}, nil)
			}
		})
		c := newTestClient(t, h, Config{})
		if _, err := c.Currency(t.Context()); err != nil {
			t.Fatalf("after 6 429s and 2 server errors: %v, want success on the third attempt", err)
		}
		if calls.Load() != 9 {
			t.Errorf("calls = %d, want 9", calls.Load())
		}
	})
}

func TestRateLimitedReturnsAtOnceWhenTheDeadlineIsSooner(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, calls := countingHandler(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "30")
			w.WriteHeader(http.StatusTooManyRequests)
		})
		c := newTestClient(t, h, Config{})
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		start := time.Now()
		_, err := c.Currency(ctx)
		if KindOf(err) != KindRateLimited || RetryAfter(err) != 30*time.Second {
			t.Fatalf("err = %v, want rate limited with 30s", err)
		}
		if calls.Load() != 1 || time.Since(start) > 0 {
			t.Errorf("calls = %d after %s, want 1 at once", calls.Load(), time.Since(start))
		}
	})
}

func TestUnauthorizedForcesOneRefreshAndRetries(t *testing.T) {
	h, calls := countingHandler(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer access-2" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		writeEnvelope(w, 200, map[string]any{"currency_code": "GBP"}, nil)
	})
	tokens := &staticTokens{token: "access-1", next: "access-2"}
	c := newTestClient(t, h, Config{Tokens: tokens, MaxAttempts: 1})
	if _, err := c.Currency(t.Context()); err != nil {
		t.Fatal(err)
	}
	if tokens.forced != 1 || calls.Load() != 2 {
		t.Errorf("forced = %d, calls = %d; want 1 and 2", tokens.forced, calls.Load())
	}
}

func TestUnauthorizedAfterTheForcedRefreshIsKindUnauthorized(t *testing.T) {
	h, calls := countingHandler(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
	})
	tokens := &staticTokens{token: "access-1", next: "access-2"}
	c := newTestClient(t, h, Config{Tokens: tokens})
	_, err := c.Currency(t.Context())
	if e := AsError(err); e == nil || e.Kind != KindUnauthorized || e.Status != 401 || IsRetryable(err) {
		t.Fatalf("err = %v, want unauthorized", err)
	}
	if tokens.forced != 1 || calls.Load() != 2 {
		t.Errorf("forced = %d, calls = %d; want 1 and 2", tokens.forced, calls.Load())
	}
}

func TestStatusesMapToKindsWithEKMsMessages(t *testing.T) {
	cases := []struct {
		status  int
		kind    Kind
		message string
	}{
		{400, KindBadRequest, "Invalid search expression"},
		{403, KindForbidden, ""},
		{404, KindNotFound, "Order '9' not found."},
		{409, KindBadRequest, ""},
		{422, KindUnprocessable, "Product '3' is a variant. Please use master product Id '1'"},
	}
	for _, tc := range cases {
		h, calls := countingHandler(func(w http.ResponseWriter, r *http.Request) {
			if tc.message == "" {
				w.WriteHeader(tc.status)
				return
			}
			writeValidation(w, tc.status, "id", tc.message)
		})
		c := newTestClient(t, h, Config{})
		_, err := c.GetOrder(t.Context(), 9)
		e := AsError(err)
		if e == nil || e.Kind != tc.kind || e.Status != tc.status || e.Method != "GET" || e.Path != "/api/v2/orders/9" {
			t.Errorf("%d: err = %#v", tc.status, err)
			continue
		}
		if calls.Load() != 1 {
			t.Errorf("%d: sent %d times, want once (not retryable)", tc.status, calls.Load())
		}
		if tc.message != "" && (len(e.Messages) != 1 || !strings.Contains(err.Error(), tc.message)) {
			t.Errorf("%d: messages %v not carried into %q", tc.status, e.Messages, err)
		}
	}
}

func TestBodyOverTheBoundIsAnErrorNotACut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			writeEnvelope(w, 200, map[string]any{"currency_code": strings.Repeat("G", 500)}, nil)
		})
		c := newTestClient(t, h, Config{MaxBodyBytes: 200})
		_, err := c.Currency(t.Context())
		if KindOf(err) != KindRetryable || !errors.Is(err, ErrBodyTooLarge) {
			t.Fatalf("err = %v, want retryable ErrBodyTooLarge", err)
		}
	})
}

func TestTruncatedAndMalformedBodiesAreRetryable(t *testing.T) {
	bodies := map[string]string{
		"truncated": `{"meta":{},"data":{"currency_co`,
		"malformed": `<html>bad gateway</html>`,
		"empty":     ``,
		"null data": `{"meta":{},"data":null}`,
	}
	for name, body := range bodies {
		synctest.Test(t, func(t *testing.T) {
			h, calls := countingHandler(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.WriteString(w, body)
			})
			c := newTestClient(t, h, Config{MaxAttempts: 2})
			_, err := c.Currency(t.Context())
			if KindOf(err) != KindRetryable {
				t.Errorf("%s: err = %v, want retryable", name, err)
			}
			if name != "null data" && calls.Load() != 2 {
				t.Errorf("%s: calls = %d, want 2 (retried)", name, calls.Load())
			}
		})
	}
}

func TestBodyCutShortOnTheWireIsRetryable(t *testing.T) {
	// A real socket: the server promises more bytes than it sends.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "500")
		_, _ = io.WriteString(w, `{"meta":{},"data":{`)
	}))
	defer srv.Close()
	c := New(Config{BaseURL: srv.URL, Tokens: &staticTokens{token: "a"}, MaxAttempts: 1})
	_, err := c.Currency(t.Context())
	if KindOf(err) != KindRetryable {
		t.Fatalf("err = %v, want retryable", err)
	}
}

func TestConnectionResetIsRetryable(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, calls := countingHandler(func(w http.ResponseWriter, r *http.Request) {
			panic(http.ErrAbortHandler)
		})
		c := newTestClient(t, h, Config{})
		_, err := c.Currency(t.Context())
		if e := AsError(err); e == nil || e.Kind != KindRetryable || e.Status != 0 {
			t.Fatalf("err = %v, want retryable without status", err)
		}
		if calls.Load() != 3 {
			t.Errorf("calls = %d, want 3", calls.Load())
		}
	})
}

func TestCreateWebhookIsNotResentAfterAnAmbiguousFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, calls := countingHandler(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusInternalServerError)
		})
		c := newTestClient(t, h, Config{})
		_, err := c.CreateWebhook(t.Context(), AddWebhook{Topic: TopicOrderCreated, Endpoint: "https://x/hook", IsEnabled: true})
		if KindOf(err) != KindRetryable || calls.Load() != 1 {
			t.Fatalf("err = %v after %d calls, want retryable after 1", err, calls.Load())
		}
	})
}

func TestCreateWebhookIsResentAfterA429(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var calls atomic.Int32
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if calls.Add(1) == 1 {
				w.WriteHeader(http.StatusTooManyRequests)
				return
			}
			w.WriteHeader(http.StatusCreated)
		})
		c := newTestClient(t, h, Config{})
		sub, err := c.CreateWebhook(t.Context(), AddWebhook{Topic: TopicOrderCreated, Endpoint: "https://x/hook", IsEnabled: true})
		if err != nil || calls.Load() != 2 {
			t.Fatalf("err = %v after %d calls, want success after 2", err, calls.Load())
		}
		if sub.Topic != TopicOrderCreated || sub.Endpoint != "https://x/hook" {
			t.Errorf("subscription = %+v, want the fields sent", sub)
		}
	})
}

func TestErrorsNameThePathWithoutTheQueryString(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeValidation(w, 400, "", "Invalid search expression")
	})
	c := newTestClient(t, h, Config{})
	_, err := c.SearchOrdersRaw(t.Context(), SearchOptions{Query: "status eq 'SECRET-FILTER'"})
	e := AsError(err)
	if e == nil || e.Path != "/api/v2/orders/search" || strings.Contains(err.Error(), "SECRET-FILTER") || strings.Contains(err.Error(), "?") {
		t.Fatalf("err = %q", err)
	}
}

func TestPlanRestrictionOnA2xxIsForbidden(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"meta": map[string]any{}, "data": nil,
			"errors": map[string]string{"PlanRestrictionViolation": "42"}})
	})
	c := newTestClient(t, h, Config{})
	_, err := c.SetProductStock(t.Context(), 1, 5)
	if e := AsError(err); e == nil || e.Kind != KindForbidden || e.Errors["PlanRestrictionViolation"] != "42" {
		t.Fatalf("err = %v, want forbidden by plan", err)
	}
}

func TestCancelledContextIsReturnedUnchanged(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeEnvelope(w, 200, map[string]any{}, nil)
	})
	c := newTestClient(t, h, Config{})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := c.Currency(ctx); !errors.Is(err, context.Canceled) || AsError(err) != nil {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}
