package ekmbench

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ekmsync/ekmsync/internal/ekm"
)

// MixOptions configures MeasureMix.
type MixOptions struct {
	// Configs build one client per worker process; each should have its own
	// Budget, all sharing one bucket (ekm.NewSharedBudget over one channel), and
	// that bucket should start empty.
	Configs []ekm.Config
	// Duration is how long to drive the clients.
	Duration time.Duration
	// Listings is how many goroutines per worker run a listing download flat out
	// (default 2).
	Listings int
	// StockPause and OrderPause are the mean pauses between one worker's stock
	// pushes and its order fetches (defaults 3 s and 4 s): with three workers,
	// orders and stock then ask for most of the bucket's 2 a second, and the
	// listing download for more than the rest.
	StockPause, OrderPause time.Duration
}

// MixResult is what MeasureMix measured.
type MixResult struct {
	Requests  int            // 2xx answers, all workers together
	ByClass   map[string]int // 2xx answers by priority
	TooMany   int            // 429 answers
	Elapsed   time.Duration
	Allowance float64 // the bucket's size plus its leak rate times Elapsed
	// Efficiency is Requests / Allowance.
	Efficiency float64
	// OrderFetches is the number of order-priority calls made.
	OrderFetches int
	// OrderWaitMax is the most requests of other priorities, from any worker,
	// sent while one order-priority call waited for its turn.
	OrderWaitMax int
}

// String formats the result as one line of a report.
func (r MixResult) String() string {
	return fmt.Sprintf("requests %d (%v) in %s, allowance %.1f, efficiency %.3f, 429s %d, order fetches %d waited behind at most %d others",
		r.Requests, r.ByClass, r.Elapsed.Round(time.Millisecond), r.Allowance, r.Efficiency, r.TooMany, r.OrderFetches, r.OrderWaitMax)
}

// MeasureMix drives several clients of one shop at once, as the worker processes
// that serve one channel would: in each, a listing download flat out, stock
// pushes and order fetches now and then. It reports requests against the bucket's
// allowance, the 429s met, and how many requests of other priorities went ahead
// of an order fetch that was waiting. It never judges the figures.
func MeasureMix(ctx context.Context, opts MixOptions) (MixResult, error) {
	if opts.Duration <= 0 || len(opts.Configs) == 0 {
		return MixResult{}, errors.New("ekmbench: Duration and Configs are needed")
	}
	if opts.Listings <= 0 {
		opts.Listings = 2
	}
	if opts.StockPause <= 0 {
		opts.StockPause = 3 * time.Second
	}
	if opts.OrderPause <= 0 {
		opts.OrderPause = 4 * time.Second
	}
	m := &mixMeter{}
	clients := make([]*ekm.Client, len(opts.Configs))
	for i, cfg := range opts.Configs {
		hc := http.DefaultClient
		if cfg.HTTPClient != nil {
			hc = cfg.HTTPClient
		}
		wrapped := *hc
		next := hc.Transport
		if next == nil {
			next = http.DefaultTransport
		}
		wrapped.Transport = &mixTransport{next: next, m: m}
		cfg.HTTPClient = &wrapped
		clients[i] = ekm.New(cfg)
	}

	runCtx, cancel := context.WithTimeout(ctx, opts.Duration)
	defer cancel()
	var wg sync.WaitGroup
	var failure atomic.Pointer[error]
	loop := func(c *ekm.Client, p ekm.Priority, pause time.Duration) {
		for runCtx.Err() == nil {
			if pause > 0 && sleepCtx(runCtx, rand.N(2*pause)) != nil {
				return
			}
			callCtx := ekm.WithPriority(runCtx, p)
			if p == ekm.PriorityOrders {
				m.orderFetches.Add(1)
				callCtx = context.WithValue(callCtx, waitMarkKey{}, m.others.Load())
			}
			_, err := c.Currency(callCtx)
			if err != nil && runCtx.Err() == nil && !ekm.IsRetryable(err) {
				failure.CompareAndSwap(nil, &err)
				cancel()
			}
		}
	}
	start := time.Now()
	for _, c := range clients {
		for range opts.Listings {
			wg.Go(func() { loop(c, ekm.PriorityListings, 0) })
		}
		wg.Go(func() { loop(c, ekm.PriorityStock, opts.StockPause) })
		wg.Go(func() { loop(c, ekm.PriorityOrders, opts.OrderPause) })
	}
	wg.Wait()
	elapsed := min(time.Since(start), opts.Duration)
	if p := failure.Load(); p != nil {
		return MixResult{}, fmt.Errorf("ekmbench: a call failed: %w", *p)
	}
	budget := clients[0].Budget()
	res := MixResult{
		ByClass:      map[string]int{},
		TooMany:      int(m.tooMany.Load()),
		Elapsed:      elapsed,
		Allowance:    budget.Size() + budget.Rate()*elapsed.Seconds(),
		OrderFetches: int(m.orderFetches.Load()),
		OrderWaitMax: int(m.orderWaitMax.Load()),
	}
	for p := ekm.PriorityListings; p <= ekm.PriorityOrders; p++ {
		n := int(m.ok[p].Load())
		res.ByClass[p.String()] = n
		res.Requests += n
	}
	res.Efficiency = float64(res.Requests) / res.Allowance
	return res, nil
}

// waitMarkKey carries, in an order fetch's context, how many requests of other
// priorities had been sent when the fetch began.
type waitMarkKey struct{}

// mixMeter counts what every worker's transport saw.
type mixMeter struct {
	ok           [ekm.PriorityOrders + 1]atomic.Int64
	tooMany      atomic.Int64
	others       atomic.Int64 // requests of other priorities than orders sent
	orderFetches atomic.Int64
	orderWaitMax atomic.Int64
}

// mixTransport counts answers by priority and measures each order request's wait
// in requests of other priorities sent meanwhile.
type mixTransport struct {
	next http.RoundTripper
	m    *mixMeter
}

// RoundTrip implements http.RoundTripper.
func (t *mixTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	p := ekm.PriorityFrom(r.Context())
	if p == ekm.PriorityOrders {
		if mark, ok := r.Context().Value(waitMarkKey{}).(int64); ok {
			waited := t.m.others.Load() - mark
			for {
				cur := t.m.orderWaitMax.Load()
				if waited <= cur || t.m.orderWaitMax.CompareAndSwap(cur, waited) {
					break
				}
			}
		}
	} else {
		t.m.others.Add(1)
	}
	resp, err := t.next.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	switch {
	case resp.StatusCode/100 == 2:
		t.m.ok[p].Add(1)
	case resp.StatusCode == http.StatusTooManyRequests:
		t.m.tooMany.Add(1)
	}
	return resp, nil
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
