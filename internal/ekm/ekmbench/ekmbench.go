// Package ekmbench measures how close the EKM client gets to the rate EKM's
// leaky bucket allows without provoking a 429: the performance goal of the
// listing download and order sync, whose bottleneck is the rate budget, not
// the CPU. The package's tests and `make bench` drive it against the simulator.
package ekmbench

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ekmsync/ekmsync/internal/ekm"
)

// Options configures MeasureEfficiency.
type Options struct {
	// Config builds the client to drive. Its HTTPClient's transport is wrapped
	// to count the answers on the wire; its Budget should start with an empty
	// bucket (a fresh one, or one idle long enough to drain), since the
	// allowance counts the whole bucket.
	Config ekm.Config
	// Duration is how long to drive the client.
	Duration time.Duration
	// Workers is how many goroutines call at once (default 4).
	Workers int
	// Priority is the budget priority of the calls (default: the context's).
	Priority ekm.Priority
	// Call is the request each worker repeats (default: Currency, EKM's
	// cheapest authenticated call).
	Call func(ctx context.Context, c *ekm.Client) error
}

// Result is what MeasureEfficiency measured.
type Result struct {
	// Requests is the number of 2xx answers received.
	Requests int
	// TooMany is the number of 429 answers received (the client retries them,
	// so they cost time, not results).
	TooMany int
	// Elapsed is the measured duration.
	Elapsed time.Duration
	// Allowance is what the bucket allows in Elapsed from empty: its size plus
	// its leak rate times Elapsed.
	Allowance float64
	// Efficiency is Requests / Allowance; the goal is at least 0.97.
	Efficiency float64
}

// String formats the result as one line of a report.
func (r Result) String() string {
	return fmt.Sprintf("requests %d in %s (%.2f/s), allowance %.1f, efficiency %.3f, 429s %d",
		r.Requests, r.Elapsed.Round(time.Millisecond), float64(r.Requests)/r.Elapsed.Seconds(), r.Allowance, r.Efficiency, r.TooMany)
}

// MeasureEfficiency drives a client built from opts.Config flat out for
// opts.Duration and reports the requests achieved against the bucket's
// theoretical allowance and the 429s it met. It never judges the figures: the
// caller prints them (benchmarks never fail on a time).
func MeasureEfficiency(ctx context.Context, opts Options) (Result, error) {
	if opts.Duration <= 0 {
		return Result{}, errors.New("ekmbench: Duration must be positive")
	}
	if opts.Workers <= 0 {
		opts.Workers = 4
	}
	if opts.Call == nil {
		opts.Call = func(ctx context.Context, c *ekm.Client) error {
			_, err := c.Currency(ctx)
			return err
		}
	}
	counter := &countingTransport{}
	cfg := opts.Config
	hc := http.DefaultClient
	if cfg.HTTPClient != nil {
		hc = cfg.HTTPClient
	}
	counter.next = hc.Transport
	if counter.next == nil {
		counter.next = http.DefaultTransport
	}
	wrapped := *hc
	wrapped.Transport = counter
	cfg.HTTPClient = &wrapped
	client := ekm.New(cfg)

	if opts.Priority != 0 {
		ctx = ekm.WithPriority(ctx, opts.Priority)
	}
	runCtx, cancel := context.WithTimeout(ctx, opts.Duration)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	var failure atomic.Pointer[error]
	for range opts.Workers {
		wg.Go(func() {
			for runCtx.Err() == nil {
				err := opts.Call(runCtx, client)
				if err != nil && runCtx.Err() == nil && !ekm.IsRetryable(err) {
					failure.CompareAndSwap(nil, &err)
					cancel()
				}
			}
		})
	}
	wg.Wait()
	elapsed := min(time.Since(start), opts.Duration)
	if p := failure.Load(); p != nil {
		return Result{}, fmt.Errorf("ekmbench: a call failed: %w", *p)
	}
	budget := client.Budget()
	res := Result{
		Requests:  int(counter.ok.Load()),
		TooMany:   int(counter.tooMany.Load()),
		Elapsed:   elapsed,
		Allowance: budget.Size() + budget.Rate()*elapsed.Seconds(),
	}
	res.Efficiency = float64(res.Requests) / res.Allowance
	return res, nil
}

// countingTransport counts 2xx and 429 answers.
type countingTransport struct {
	next    http.RoundTripper
	ok      atomic.Int64
	tooMany atomic.Int64
}

// RoundTrip implements http.RoundTripper.
func (t *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	switch {
	case resp.StatusCode/100 == 2:
		t.ok.Add(1)
	case resp.StatusCode == http.StatusTooManyRequests:
		t.tooMany.Add(1)
	}
	return resp, nil
}
