package ekmsim

import (
	"net/http"
	"strconv"
	"testing"
	"testing/synctest"
	"time"
)

// remaining reads X-EKM-RateLimit-Remaining.
func remaining(t *testing.T, r *response) int {
	t.Helper()
	n, err := strconv.Atoi(r.header.Get("X-EKM-RateLimit-Remaining"))
	if err != nil {
		t.Fatalf("X-EKM-RateLimit-Remaining %q: %v", r.header.Get("X-EKM-RateLimit-Remaining"), err)
	}
	return n
}

func TestBurstOfFortyThenThrottled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sim := New(smallShop())
		defer sim.Close()
		c := newClient(t, sim)
		for i := 1; i <= 40; i++ {
			r := c.get("/api/v2/orders/1").want(t, http.StatusOK)
			if got := remaining(t, r); got != 40-i {
				t.Fatalf("request %d: remaining %d, want %d", i, got, 40-i)
			}
			for h, want := range map[string]string{
				"X-EKM-RateLimit-Cost": "1", "X-EKM-RateLimit-BucketSize": "40",
				"X-EKM-RateLimit-LeakRate": "1", "X-EKM-RateLimit-LeakAmount": "2",
			} {
				if got := r.header.Get(h); got != want {
					t.Fatalf("%s = %q, want %q", h, got, want)
				}
			}
		}
		r := c.get("/api/v2/orders/1")
		r.wantValidation(t, http.StatusTooManyRequests, nil, "Rate limit exceeded")
		if remaining(t, r) != 0 || r.header.Get("Retry-After") != "1" || r.header.Get("X-EKM-RateLimit-BucketSize") != "40" {
			t.Errorf("429 headers: remaining %s, Retry-After %s", r.header.Get("X-EKM-RateLimit-Remaining"), r.header.Get("Retry-After"))
		}
		// 429s do not fill the bucket: after one second, two requests fit again.
		for range 5 {
			c.get("/api/v2/orders/1").want(t, http.StatusTooManyRequests)
		}
		time.Sleep(time.Second)
		if got := remaining(t, c.get("/api/v2/orders/1").want(t, http.StatusOK)); got != 1 {
			t.Errorf("after 1 s: remaining %d, want 1 (2 leaked, 1 used)", got)
		}
		c.get("/api/v2/orders/1").want(t, http.StatusOK)
		c.get("/api/v2/orders/1").want(t, http.StatusTooManyRequests)

		// Tokens come back at the leak rate: 10 s leak 20.
		time.Sleep(10 * time.Second)
		for i := range 20 {
			if r := c.get("/api/v2/orders/1"); r.status != http.StatusOK {
				t.Fatalf("request %d after 10 s: %d, want 20 successes", i+1, r.status)
			}
		}
		c.get("/api/v2/orders/1").want(t, http.StatusTooManyRequests)
		if n := sim.RequestStats().RateLimited; n != 8 {
			t.Errorf("RateLimited %d, want 8", n)
		}
	})
}

func TestRetryAfterCountsSecondsToRoom(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sim := New(Options{Seed: 1, BucketSize: 4, LeakPerSecond: 0.25})
		defer sim.Close()
		c := newClient(t, sim)
		for range 4 {
			c.get("/api/v1/settings/currency").want(t, http.StatusOK)
		}
		r := c.get("/api/v1/settings/currency").want(t, http.StatusTooManyRequests)
		if r.header.Get("Retry-After") != "4" || r.header.Get("X-EKM-RateLimit-LeakAmount") != "0.25" {
			t.Errorf("Retry-After %q LeakAmount %q, want 4 s at 0.25/s", r.header.Get("Retry-After"), r.header.Get("X-EKM-RateLimit-LeakAmount"))
		}
		time.Sleep(3 * time.Second)
		c.get("/api/v1/settings/currency").want(t, http.StatusTooManyRequests)
		time.Sleep(time.Second)
		c.get("/api/v1/settings/currency").want(t, http.StatusOK)
	})
}

// An accelerated bucket (a test's 200 a second) speaks in fractions of a second,
// so that its waits speed up with it: one request every 5 ms, and a 429 to wait
// one request's leak.
func TestAcceleratedBucketSpeaksInFractionsOfASecond(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sim := New(Options{Seed: 1, BucketSize: 2, LeakPerSecond: 200})
		defer sim.Close()
		c := newClient(t, sim)
		ok := c.get("/api/v1/settings/currency").want(t, http.StatusOK)
		if ok.header.Get("X-EKM-RateLimit-LeakRate") != "0.005" || ok.header.Get("X-EKM-RateLimit-LeakAmount") != "1" {
			t.Errorf("LeakRate %q LeakAmount %q, want 1 request per 0.005 s", ok.header.Get("X-EKM-RateLimit-LeakRate"),
				ok.header.Get("X-EKM-RateLimit-LeakAmount"))
		}
		c.get("/api/v1/settings/currency").want(t, http.StatusOK)
		r := c.get("/api/v1/settings/currency").want(t, http.StatusTooManyRequests)
		if r.header.Get("Retry-After") != "0.005" {
			t.Errorf("Retry-After %q, want 0.005", r.header.Get("Retry-After"))
		}
		time.Sleep(5 * time.Millisecond)
		c.get("/api/v1/settings/currency").want(t, http.StatusOK)
	})
}

func TestEveryAuthenticatedAnswerCostsAndCarriesHeaders(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sim := New(smallShop())
		defer sim.Close()
		c := newClient(t, sim)
		for i, path := range []string{"/api/v2/orders/999999", "/api/v2/orders/search?query=bad", "/api/v1/products/abc/stock"} {
			r := c.get(path)
			if r.status < 400 || remaining(t, r) != 39-i {
				t.Errorf("%s: status %d remaining %s, want an error that still costs 1", path, r.status, r.header.Get("X-EKM-RateLimit-Remaining"))
			}
		}
		c.token = "nonsense"
		for range 50 {
			c.get("/api/v2/orders").want(t, http.StatusUnauthorized)
		}
		c.token, _ = sim.IssueTokens()
		if got := remaining(t, c.get("/api/v2/orders/1")); got != 36 {
			t.Errorf("remaining %d after 50 unauthenticated requests, want 36 (they cost nothing)", got)
		}
		// OAuth and admin routes are not rate limited.
		for range 60 {
			r := postForm(t, c.hc, "/connect/token", tokenForm("refresh_token", "refresh_token", "x"))
			if r.status == http.StatusTooManyRequests || r.header.Get("X-EKM-RateLimit-Remaining") != "" {
				t.Fatal("/connect/token is rate limited")
			}
		}
	})
}

func TestSetRateLimitAndReset(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sim := New(smallShop())
		defer sim.Close()
		c := newClient(t, sim)
		sim.SetRateLimit(3, 1)
		for range 3 {
			c.get("/api/v2/orders/1").want(t, http.StatusOK)
		}
		r := c.get("/api/v2/orders/1").want(t, http.StatusTooManyRequests)
		if r.header.Get("X-EKM-RateLimit-BucketSize") != "3" {
			t.Errorf("BucketSize %q, want 3", r.header.Get("X-EKM-RateLimit-BucketSize"))
		}
		sim.Reset()
		if got := remaining(t, c.get("/api/v2/orders/1").want(t, http.StatusOK)); got != 2 {
			t.Errorf("after Reset remaining %d, want 2 (bucket emptied)", got)
		}
		if counts := sim.RequestCounts(); counts["GET /api/v2/orders/{id}"] != 1 {
			t.Errorf("counts after Reset %v, want one request", counts)
		}
	})
}
