package ekm

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// A Retry-After of a million seconds (or a date years ahead) is not waited
// out: the call returns the 429 at once with the capped wait and an error that
// names what EKM answered.
func TestRetryAfterIsCappedWithAnErrorNamingEKMsAnswer(t *testing.T) {
	for _, answer := range []string{"1000000", "1e300", time.Now().AddDate(3, 0, 0).UTC().Format(http.TimeFormat)} {
		synctest.Test(t, func(t *testing.T) {
			h, calls := countingHandler(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", answer)
				w.WriteHeader(http.StatusTooManyRequests)
			})
			c := newTestClient(t, h, Config{})
			start := time.Now()
			_, err := c.Currency(t.Context())
			if KindOf(err) != KindRateLimited || RetryAfter(err) != DefaultMaxRetryAfter || !errors.Is(err, ErrRetryAfterTooLong) {
				t.Fatalf("Retry-After %s: err = %v, want rate limited, capped at %s", answer, err, DefaultMaxRetryAfter)
			}
			if !strings.Contains(err.Error(), answer) {
				t.Errorf("error %q does not name EKM's answer %q", err, answer)
			}
			if calls.Load() != 1 || time.Since(start) > 0 {
				t.Errorf("%d calls in %s, want 1 at once", calls.Load(), time.Since(start))
			}
		})
	}
}

// A body over the bound is not fetched again by the call: the same request
// brings the same body, so the caller must ask for less.
func TestBodyOverTheBoundIsNotRetried(t *testing.T) {
	h, calls := countingHandler(func(w http.ResponseWriter, r *http.Request) {
		writeEnvelope(w, 200, map[string]any{"currency_code": strings.Repeat("G", 500)}, nil)
	})
	c := newTestClient(t, h, Config{MaxBodyBytes: 200})
	if _, err := c.Currency(t.Context()); !errors.Is(err, ErrBodyTooLarge) || calls.Load() != 1 {
		t.Fatalf("err = %v after %d calls, want ErrBodyTooLarge after 1", err, calls.Load())
	}
}

// A page with more items than the limit asked for is refused, not cut.
func TestPageLongerThanTheLimitIsRefused(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		items := make([]any, 50)
		for i := range items {
			items[i] = sampleOrder(int64(i + 1))
		}
		writeEnvelope(w, 200, items, map[string]any{"pages_total": 1, "items_total": 50, "items_per_page": 50})
	})
	c := newTestClient(t, h, Config{MaxAttempts: 1})
	if _, err := c.ListOrdersRaw(t.Context(), 1, MaxPageSize); !errors.Is(err, ErrPageTooLong) {
		t.Fatalf("err = %v, want ErrPageTooLong", err)
	}
}

// An order's item list is bounded: an absurdly long one is invalid data (its
// order is quarantined), fetched once, not a walk over every page EKM claims.
func TestItemListBeyondTheBoundIsInvalidData(t *testing.T) {
	h, calls := countingHandler(func(w http.ResponseWriter, r *http.Request) {
		items := make([]any, 20)
		for i := range items {
			items[i] = map[string]any{"id": i + 1, "quantity": 1}
		}
		writeEnvelope(w, 200, items, map[string]any{"pages_total": 1 << 30, "items_total": 20 << 30, "items_per_page": 20})
	})
	c := newTestClient(t, h, Config{})
	_, err := c.OrderItems(t.Context(), 7)
	if KindOf(err) != KindInvalidData || !errors.Is(err, ErrPageTooLong) {
		t.Fatalf("err = %v, want invalid data, ErrPageTooLong", err)
	}
	if n := calls.Load(); n > MaxCollectPages+1 {
		t.Errorf("%d pages fetched, want at most %d", n, MaxCollectPages+1)
	}
}
