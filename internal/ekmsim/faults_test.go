package ekmsim

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

func TestServerErrorFaultSkipsTheRequest(t *testing.T) {
	sim := New(smallShop())
	defer sim.Close()
	c := newClient(t, sim)
	sim.SetFaults(Faults{ServerError: 1})
	seen := map[int]bool{}
	for i := range 30 {
		r := c.put("/api/v2/orders/1/internalNotes", map[string]string{"notes": "n"})
		if r.status != 500 && r.status != 502 && r.status != 503 {
			t.Fatalf("status %d, want 500, 502 or 503", r.status)
		}
		seen[r.status] = true
		if got := remaining(t, r); got != 39-i {
			t.Fatalf("a faulted request must still cost a token: remaining %d, want %d", got, 39-i)
		}
	}
	if len(seen) != 3 {
		t.Errorf("statuses seen %v, want all of 500, 502, 503", seen)
	}
	if n := len(sim.Writes(WriteFilter{})); n != 0 {
		t.Errorf("%d writes applied by requests answered with a server error", n)
	}
}

func TestRateLimitBurstFault(t *testing.T) {
	sim := New(smallShop())
	defer sim.Close()
	c := newClient(t, sim)
	sim.SetFaults(Faults{RateLimitBurst: 1})
	r := c.get("/api/v2/orders/1")
	r.wantValidation(t, http.StatusTooManyRequests, nil, rateLimitMessage)
	if r.header.Get("Retry-After") == "" || r.header.Get("X-EKM-RateLimit-Remaining") != "0" {
		t.Errorf("injected 429 headers: Retry-After %q Remaining %q", r.header.Get("Retry-After"), r.header.Get("X-EKM-RateLimit-Remaining"))
	}
	sim.SetFaults(Faults{})
	c.get("/api/v2/orders/1").want(t, http.StatusOK)
}

func TestRateLimitBurstLasts3To10Requests(t *testing.T) {
	lengths := map[int]bool{}
	for seed := range int64(60) {
		in := newInjector(seed, Faults{RateLimitBurst: 1})
		if in.decide().kind != faultRateLimited {
			t.Fatal("burst did not start at probability 1")
		}
		in.faults = Faults{} // keep the running burst, start no new one
		n := 1
		for in.decide().kind == faultRateLimited {
			n++
		}
		if n < 3 || n > 10 {
			t.Fatalf("seed %d: burst of %d, want 3 to 10", seed, n)
		}
		lengths[n] = true
	}
	if len(lengths) < 5 {
		t.Errorf("burst lengths %v should vary with the seed", lengths)
	}
}

func TestLatencyFault(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sim := New(smallShop())
		defer sim.Close()
		c := newClient(t, sim)
		sim.SetFaults(Faults{Latency: 1, LatencyDuration: 3 * time.Second})
		start := time.Now()
		c.get("/api/v2/orders/1").want(t, http.StatusOK)
		if took := time.Since(start); took != 3*time.Second {
			t.Errorf("request took %v, want the injected 3 s", took)
		}
	})
}

func TestConnResetFault(t *testing.T) {
	sim := New(smallShop())
	defer sim.Close()
	sim.SetFaults(Faults{ConnReset: 1})
	send, _ := startTCP(t, sim)
	resp, err := send(http.MethodPut, "/api/v2/orders/1/internalNotes", `{"notes":"x"}`)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("got status %d, want the connection closed without a response", resp.StatusCode)
	}
	if n := len(sim.Writes(WriteFilter{})); n != 0 {
		t.Errorf("%d writes applied by a reset request", n)
	}
	if sim.RequestStats().ByStatus["reset"] != 1 {
		t.Errorf("stats %+v should count one reset", sim.RequestStats().ByStatus)
	}
	// In memory the same fault aborts the handler.
	req, _ := http.NewRequest(http.MethodGet, testBase+"/api/v2/orders/1", nil)
	req.Header.Set("Authorization", "Bearer "+newClient(t, sim).token)
	if _, err := memClient(sim).Do(req); !errors.Is(err, errConnReset) {
		t.Errorf("in-memory reset: %v, want the connection cut", err)
	}
}

func TestMalformedFaultProcessesTheRequest(t *testing.T) {
	sim := New(smallShop())
	defer sim.Close()
	c := newClient(t, sim)
	sim.SetFaults(Faults{Malformed: 1})
	r := c.put("/api/v2/orders/2/internalNotes", map[string]string{"notes": "hidden"}).want(t, http.StatusOK)
	if json.Valid(r.body) {
		t.Fatalf("body is valid JSON: %s", r.body)
	}
	if cl, _ := strconv.Atoi(r.header.Get("Content-Length")); cl != len(r.body) || cl == 0 {
		t.Errorf("Content-Length %d for a %d-byte body; a malformed body is complete but broken", cl, len(r.body))
	}
	if o, _ := sim.Order(2); o.InternalNotes != "hidden" {
		t.Error("the write behind a malformed answer should be applied")
	}
}

func TestTruncatedFault(t *testing.T) {
	sim := New(smallShop())
	defer sim.Close()
	sim.SetFaults(Faults{Truncated: 1})
	send, _ := startTCP(t, sim)
	resp, err := send(http.MethodGet, "/api/v2/orders?limit=5", "")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("status %d, read error %v; want 200 and an unexpected EOF", resp.StatusCode, err)
	}
	if int64(len(b)) >= resp.ContentLength {
		t.Errorf("read %d bytes of an announced %d", len(b), resp.ContentLength)
	}
}

func TestFaultsSpareOAuthAndAdmin(t *testing.T) {
	sim := New(Options{Seed: 1, Faults: Faults{ServerError: 1}})
	defer sim.Close()
	c := newClient(t, sim)
	for range 5 {
		if r := c.get("/api/v1/settings/currency"); r.status < 500 {
			t.Fatalf("API answered %d with ServerError 1", r.status)
		}
	}
	wantTokenError(t, postForm(t, c.hc, "/connect/token", tokenForm("refresh_token", "refresh_token", "x")), "invalid_grant")
	c.token = ""
	c.get("/admin/requests").want(t, http.StatusOK)
}

func TestFaultsRepeatForASeed(t *testing.T) {
	run := func() []int {
		o := smallShop()
		o.Seed, o.Faults = 42, Faults{ServerError: 0.3, RateLimitBurst: 0.05, Malformed: 0.1}
		sim := New(o)
		defer sim.Close()
		c := newClient(t, sim)
		sim.SetRateLimit(1000, 1000)
		var statuses []int
		for range 200 {
			r := c.get("/api/v2/orders/1")
			code := r.status
			if code == http.StatusOK && !json.Valid(r.body) {
				code = -1
			}
			statuses = append(statuses, code)
		}
		return statuses
	}
	a, b := run(), run()
	if !slices.Equal(a, b) {
		t.Error("the same seed and requests gave different faults")
	}
	kinds := map[int]bool{}
	for _, s := range a {
		kinds[s] = true
	}
	for _, want := range []int{http.StatusOK, -1, http.StatusTooManyRequests} {
		if !kinds[want] {
			t.Errorf("200 requests at these rates never gave %d (got %v)", want, kinds)
		}
	}
}

// The fault counters say what was injected, kind by kind, and Reset zeroes them.
func TestFaultCountsReportEachInjectedKind(t *testing.T) {
	sim := New(smallShop())
	defer sim.Close()
	c := newClient(t, sim)
	sim.SetFaults(Faults{ServerError: 1})
	c.get("/api/v2/orders/1")
	c.get("/api/v2/orders/1")
	sim.SetFaults(Faults{Malformed: 1, Latency: 1, LatencyDuration: time.Millisecond})
	c.get("/api/v2/orders/1")
	sim.SetFaults(Faults{})
	c.get("/api/v2/orders/1")
	got := sim.RequestStats().Faults
	want := FaultCounts{ServerErrors: 2, Malformed: 1, Slow: 1}
	if got != want {
		t.Errorf("fault counts %+v, want %+v", got, want)
	}
	sim.Reset()
	if got := sim.RequestStats().Faults; got != (FaultCounts{}) {
		t.Errorf("after Reset: %+v, want zero", got)
	}
}

// The request counters tell the 429s of a full bucket from the injected ones, so
// that a run under injected bursts can still require that its clients never
// overdraw the bucket (the chaos run does).
func TestBucketLimitedCountsOnlyTheBucketsOwn429s(t *testing.T) {
	opts := smallShop()
	opts.BucketSize, opts.LeakPerSecond = 3, 0.001
	sim := New(opts)
	defer sim.Close()
	c := newClient(t, sim)
	sim.SetFaults(Faults{RateLimitBurst: 1})
	c.get("/api/v2/orders/1").want(t, http.StatusTooManyRequests) // injected; it costs a token as EKM's would
	sim.SetFaults(Faults{})                                       // ends the burst
	c.get("/api/v2/orders/1").want(t, http.StatusOK)
	c.get("/api/v2/orders/1").want(t, http.StatusOK)
	c.get("/api/v2/orders/1").want(t, http.StatusTooManyRequests) // the bucket's own
	stats := sim.RequestStats()
	if stats.RateLimited != 2 || stats.Faults.RateLimited != 1 || stats.BucketLimited != 1 {
		t.Errorf("429s %d, injected %d, from the bucket %d; want 2, 1, 1", stats.RateLimited, stats.Faults.RateLimited, stats.BucketLimited)
	}
	if b, _ := json.Marshal(stats); !strings.Contains(string(b), `"bucket_limited":1`) {
		t.Errorf("GET /admin/requests would answer %s, without bucket_limited 1", b)
	}
	sim.Reset()
	if n := sim.RequestStats().BucketLimited; n != 0 {
		t.Errorf("after Reset: %d from the bucket, want 0", n)
	}
}
