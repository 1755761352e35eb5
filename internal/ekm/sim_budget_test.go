package ekm_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ekmsync/ekmsync/internal/ekm"
	"github.com/ekmsync/ekmsync/internal/ekm/ekmbench"
	"github.com/ekmsync/ekmsync/internal/ekmsim"
)

func TestSimClientFlatOutFor30SecondsGetsNo429sAndNearlyTheAllowance(t *testing.T) {
	for _, p := range []ekm.Priority{ekm.PriorityOrders, ekm.PriorityStock, ekm.PriorityListings} {
		t.Run(p.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				env := newSimEnv(t, ekmsim.Options{}, ekm.Config{}) // the default bucket: 40, 2/s
				res, err := ekmbench.MeasureEfficiency(t.Context(), ekmbench.Options{
					Config:   ekm.Config{BaseURL: baseURL, HTTPClient: env.hc, Tokens: env.tokens, Budget: ekm.NewBudget(40, 2)},
					Duration: 30 * time.Second, Workers: 6, Priority: p,
				})
				if err != nil {
					t.Fatal(err)
				}
				t.Logf("%s: %s", p, res)
				stats := env.sim.RequestStats()
				if res.TooMany != 0 || stats.RateLimited != 0 {
					t.Errorf("%d 429s on the wire, %d at the simulator; want none", res.TooMany, stats.RateLimited)
				}
				// At least 95% of the allowance at the default priority (stock,
				// which leaves 2 requests of the bucket to orders) and above.
				// Listings leave 4, two more, which a 30 s window shows.
				floor := 0.95 * (40 + 2*30.0)
				if p == ekm.PriorityListings {
					floor -= 2
				}
				if float64(res.Requests) < floor {
					t.Errorf("%d requests, want ≥ %.0f", res.Requests, floor)
				}
				if float64(res.Requests) > res.Allowance {
					t.Errorf("%d requests exceed the allowance %.1f: the measure is wrong", res.Requests, res.Allowance)
				}
			})
		})
	}
}

// recordingTransport notes the path of every request in the order sent.
type recordingTransport struct {
	mu    sync.Mutex
	next  http.RoundTripper
	paths []string
}

func (r *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.paths = append(r.paths, req.URL.Path)
	r.mu.Unlock()
	return r.next.RoundTrip(req)
}

func (r *recordingTransport) sent() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.paths...)
}

func TestSimOrderFetchIsGrantedWithinAFewRequestsOfASaturatingListingDownload(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		env := newSimEnv(t, ekmsim.Options{Products: 200, Orders: 10}, ekm.Config{})
		rec := &recordingTransport{next: env.hc.Transport}
		c := ekm.New(ekm.Config{BaseURL: baseURL, HTTPClient: &http.Client{Transport: rec}, Tokens: env.tokens, Budget: ekm.NewBudget(40, 2)})

		ctx, stop := context.WithCancel(ekm.WithPriority(t.Context(), ekm.PriorityListings))
		var wg sync.WaitGroup
		for w := range 4 { // a listing download with concurrency, looping over the catalogue
			wg.Go(func() {
				for page := w + 1; ctx.Err() == nil; page = page%10 + 1 {
					_, _ = c.ListProductsRaw(ctx, page, 20)
				}
			})
		}
		time.Sleep(20 * time.Second) // long enough to saturate the bucket
		ordersCtx := ekm.WithPriority(t.Context(), ekm.PriorityOrders)
		for i, id := range []int64{1, 2, 3} {
			before := len(rec.sent())
			start := time.Now()
			if _, err := c.GetOrder(ordersCtx, env.sim.Orders()[id].ID); err != nil {
				t.Fatal(err)
			}
			waited := time.Since(start)
			sent := rec.sent()[before:]
			ahead := 0
			for _, p := range sent {
				if strings.HasPrefix(p, "/api/v2/orders/") {
					break
				}
				ahead++
			}
			t.Logf("order fetch %d: waited %s, %d listing requests went ahead", i+1, waited, ahead)
			if ahead > 2 || waited > time.Second {
				t.Errorf("order fetch %d waited %s behind %d listing requests; want at most a few", i+1, waited, ahead)
			}
			time.Sleep(3 * time.Second)
		}
		stop()
		wg.Wait()
		if n := env.sim.RequestStats().RateLimited; n != 0 {
			t.Errorf("%d 429s", n)
		}
	})
}

func TestSimFaultsAtProbabilityOneAreRetryableAfterMaxAttempts(t *testing.T) {
	faults := map[string]ekmsim.Faults{
		"server error": {ServerError: 1},
		"reset":        {ConnReset: 1},
		"truncated":    {Truncated: 1},
		"malformed":    {Malformed: 1},
	}
	for name, f := range faults {
		t.Run(name, func(t *testing.T) {
			simTest(t, ekmsim.Options{Faults: f}, ekm.Config{MaxAttempts: 3}, func(t *testing.T, env *simEnv) {
				_, err := env.client.GetOrder(t.Context(), 1)
				if !ekm.IsRetryable(err) || ekm.KindOf(err) != ekm.KindRetryable {
					t.Fatalf("err = %v, want retryable", err)
				}
				if n := env.sim.RequestCounts()["GET /api/v2/orders/{id}"]; n != 3 {
					t.Errorf("%d attempts, want MaxAttempts = 3", n)
				}
			})
		})
	}
}

func TestSimRateLimitBurstIsWaitedOutAndTheCallSucceeds(t *testing.T) {
	// A burst answers 429 to 3 to 10 requests in a row, each with Retry-After: 1.
	// (At probability 1 every burst is followed by another and no call can
	// succeed; 0.3 with this seed makes a burst at once and then lets it end.)
	simTest(t, ekmsim.Options{Seed: 3, Faults: ekmsim.Faults{RateLimitBurst: 0.3}}, ekm.Config{MaxAttempts: 12}, func(t *testing.T, env *simEnv) {
		start := time.Now()
		if _, err := env.client.GetOrder(t.Context(), 1); err != nil {
			t.Fatalf("err = %v after %d 429s, want success", err, env.sim.RequestStats().RateLimited)
		}
		n := env.sim.RequestStats().RateLimited
		if n < 3 {
			t.Fatalf("only %d 429s: the seed no longer starts with a burst", n)
		}
		if waited := time.Since(start); waited < time.Duration(n)*time.Second {
			t.Errorf("succeeded after %d 429s in %s, before their Retry-After", n, waited)
		}
	})
}

func TestSimEndlessRateLimitingGivesUpRateLimited(t *testing.T) {
	simTest(t, ekmsim.Options{Faults: ekmsim.Faults{RateLimitBurst: 1}}, ekm.Config{MaxAttempts: 3}, func(t *testing.T, env *simEnv) {
		_, err := env.client.GetOrder(t.Context(), 1)
		if ekm.KindOf(err) != ekm.KindRateLimited || ekm.RetryAfter(err) != time.Second || !ekm.IsRetryable(err) {
			t.Fatalf("err = %v, want rate limited with the simulator's Retry-After of 1s", err)
		}
	})
}

func TestSimLatencyIsWaitedFor(t *testing.T) {
	simTest(t, ekmsim.Options{Faults: ekmsim.Faults{Latency: 1, LatencyDuration: 5 * time.Second}}, ekm.Config{}, func(t *testing.T, env *simEnv) {
		start := time.Now()
		if _, err := env.client.Currency(t.Context()); err != nil || time.Since(start) != 5*time.Second {
			t.Fatalf("err = %v after %s", err, time.Since(start))
		}
	})
}

func TestSimFaultsOverARealSocketAreRetryable(t *testing.T) {
	// A TCP reset and a body cut short by a closed connection look different on
	// a socket than in memory; both must still read as retryable.
	for name, f := range map[string]ekmsim.Faults{"reset": {ConnReset: 1}, "truncated": {Truncated: 1}} {
		t.Run(name, func(t *testing.T) {
			sim := ekmsim.New(ekmsim.Options{Seed: 1, Orders: 3, Faults: f})
			defer sim.Close()
			srv := httptest.NewServer(sim.Handler())
			defer srv.Close()
			access, refresh := sim.IssueTokens()
			c := ekm.New(ekm.Config{BaseURL: srv.URL, HTTPClient: srv.Client(), MaxAttempts: 2, Tokens: ekm.NewTokenSource(ekm.TokenSourceConfig{
				TokenURL: ekm.TokenURL(srv.URL), ClientID: "ekmsim-demo-client", ClientSecret: "ekmsim-demo-secret", HTTPClient: srv.Client(),
				Store: ekm.NewMemoryTokenStore(ekm.Tokens{AccessToken: access, RefreshToken: refresh, Expiry: time.Now().Add(time.Hour)}),
			})})
			_, err := c.GetOrder(t.Context(), sim.Orders()[0].ID)
			if ekm.KindOf(err) != ekm.KindRetryable {
				t.Fatalf("err = %v, want retryable", err)
			}
			if n := sim.RequestCounts()["GET /api/v2/orders/{id}"]; n != 2 {
				t.Errorf("%d attempts, want 2", n)
			}
		})
	}
}
