package ekm

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// rateHeader builds a response header from name, value pairs.
func rateHeader(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

// grantsWithin counts how many requests at priority p the budget grants in d,
// observing each at once without headers.
func grantsWithin(t *testing.T, b *Budget, p Priority, d time.Duration) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), d)
	defer cancel()
	n := 0
	for b.Acquire(ctx, p) == nil {
		b.Observe(nil)
		n++
	}
	return n
}

func TestBudgetGrantsTheWholeBurstThenTheLeakRate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := NewBudget(40, 2)
		if burst := grantsWithin(t, b, PriorityOrders, time.Millisecond); burst != 40 {
			t.Errorf("burst = %d, want 40", burst)
		}
		sustained := grantsWithin(t, b, PriorityOrders, 30*time.Second)
		if sustained < 59 || sustained > 60 {
			t.Errorf("granted %d in 30s after the burst, want 2/s", sustained)
		}
	})
}

func TestBudgetKeepsOneLeakStepFreeAfterA429(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := NewBudget(40, 2)
		b.Penalize(0)
		time.Sleep(time.Minute) // empty again
		if burst := grantsWithin(t, b, PriorityOrders, time.Millisecond); burst != 38 {
			t.Errorf("burst after a 429 = %d, want 38 (40 less one 2-request step)", burst)
		}
	})
}

func TestBudgetLowerPrioritiesLeaveAReserve(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := NewBudget(40, 2)
		if n := grantsWithin(t, b, PriorityListings, time.Millisecond); n != 36 {
			t.Errorf("listings took %d, want 36 (leaving 4)", n)
		}
		if n := grantsWithin(t, b, PriorityStock, time.Millisecond); n != 2 {
			t.Errorf("stock then took %d, want 2 (leaving 2)", n)
		}
		if n := grantsWithin(t, b, PriorityOrders, time.Millisecond); n != 2 {
			t.Errorf("orders then took %d, want the last 2", n)
		}
	})
}

func TestBudgetServesWaitersByPriorityThenArrival(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := NewBudget(40, 2)
		grantsWithin(t, b, PriorityOrders, time.Millisecond) // fill it
		var mu sync.Mutex
		var order []string
		var wg sync.WaitGroup
		start := func(name string, p Priority) {
			wg.Go(func() {
				if err := b.Acquire(t.Context(), p); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				order = append(order, name)
				mu.Unlock()
			})
			synctest.Wait() // queued before the next one arrives
		}
		start("listings-1", PriorityListings)
		start("stock-1", PriorityStock)
		start("listings-2", PriorityListings)
		start("orders-1", PriorityOrders)
		start("stock-2", PriorityStock)
		start("orders-2", PriorityOrders)
		wg.Wait()
		want := []string{"orders-1", "orders-2", "stock-1", "stock-2", "listings-1", "listings-2"}
		for i := range want {
			if order[i] != want[i] {
				t.Fatalf("grant order = %v, want %v", order, want)
			}
		}
	})
}

func TestBudgetHighPriorityIsGrantedWithinAFewRequestsOfASaturatingLoop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := NewBudget(40, 2)
		var lowGranted atomic.Int64
		ctx, stop := context.WithCancel(t.Context())
		var wg sync.WaitGroup
		for range 4 { // a listing download with some concurrency
			wg.Go(func() {
				for b.Acquire(ctx, PriorityListings) == nil {
					lowGranted.Add(1)
					time.Sleep(50 * time.Millisecond) // the request
					b.Observe(nil)
				}
			})
		}
		time.Sleep(10 * time.Second) // saturated: the bucket sits at the listings' share
		before := lowGranted.Load()
		start := time.Now()
		if err := b.Acquire(t.Context(), PriorityOrders); err != nil {
			t.Fatal(err)
		}
		waited, lowMeanwhile := time.Since(start), lowGranted.Load()-before
		b.Observe(nil)
		stop()
		wg.Wait()
		// A listing waiter whose timer fires at the same fake instant may be served
		// in that instant too; none may be served while the order waits.
		if waited > 0 || lowMeanwhile > 1 {
			t.Errorf("order request waited %s behind %d listing requests, want at once", waited, lowMeanwhile)
		}
	})
}

func TestBudgetObserveReconcilesWithTheServersRemaining(t *testing.T) {
	cases := []struct {
		remaining string
		want      float64
		why       string
	}{
		// Another process has used the bucket: the server has room for 10 only,
		// and the other 4 requests, granted after the observed one and still in
		// flight, may not be in its count yet.
		{"10", 6, "10 reported less 4 in flight"},
		// A stale answer: the server had seen only the first request.
		{"39", 35, "all 5 sent requests still count"},
		// The server saw all 5 before answering the first.
		{"35", 35, "in-flight requests the server counted are not counted twice"},
	}
	for _, tc := range cases {
		synctest.Test(t, func(t *testing.T) {
			b := NewBudget(40, 2)
			for range 5 {
				if err := b.Acquire(t.Context(), PriorityOrders); err != nil {
					t.Fatal(err)
				}
			}
			b.Observe(rateHeader(headerRemaining, tc.remaining))
			if got := b.Available(); got != tc.want {
				t.Errorf("Remaining %s: Available = %v, want %v (%s)", tc.remaining, got, tc.want, tc.why)
			}
		})
	}
}

func TestBudgetLearnsTheBucketFromTheHeaders(t *testing.T) {
	b := NewBudget(40, 2)
	if err := b.Acquire(t.Context(), PriorityOrders); err != nil {
		t.Fatal(err)
	}
	b.Observe(rateHeader(headerBucketSize, "80", headerLeakRate, "2", headerLeakAmount, "6", headerRemaining, "79"))
	if b.Size() != 80 || b.Rate() != 3 {
		t.Errorf("size %v rate %v, want 80 and 3/s", b.Size(), b.Rate())
	}
}

func TestBudgetPenalizeHoldsEveryoneUntilRetryAfter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := NewBudget(40, 2)
		b.Penalize(3 * time.Second)
		start := time.Now()
		if err := b.Acquire(t.Context(), PriorityOrders); err != nil {
			t.Fatal(err)
		}
		if waited := time.Since(start); waited < 3*time.Second {
			t.Errorf("granted after %s, before the 3s Retry-After", waited)
		}
	})
}

func TestBudgetAcquireStopsWithItsContextAndLetsTheNextWaiterOn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := NewBudget(40, 2)
		grantsWithin(t, b, PriorityOrders, time.Millisecond)
		ctx, cancel := context.WithCancel(t.Context())
		errc := make(chan error, 1)
		go func() { errc <- b.Acquire(ctx, PriorityOrders) }() // head of the queue
		synctest.Wait()
		done := make(chan struct{})
		go func() {
			if err := b.Acquire(t.Context(), PriorityListings); err != nil {
				t.Error(err)
			}
			close(done)
		}()
		synctest.Wait()
		cancel()
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
		<-done // the listing waiter is served once the bucket leaks to its share
	})
}

func TestBudgetsHandOutOneBudgetPerChannel(t *testing.T) {
	var bs Budgets
	a, b := bs.For("shop-a"), bs.For("shop-b")
	if a != bs.For("shop-a") || a == b {
		t.Fatal("want one shared budget per channel")
	}
	if a.Size() != DefaultBucketSize || a.Rate() != DefaultLeakPerSecond {
		t.Errorf("zero Budgets gave size %v rate %v", a.Size(), a.Rate())
	}
}

// bucketServer is a fake EKM leaky bucket: 429 when full, rate headers always.
// With discrete set it leaks in whole steps each interval, as EKM documents.
type bucketServer struct {
	mu       sync.Mutex
	size     float64
	amount   float64
	interval time.Duration
	discrete bool
	level    float64
	last     time.Time
	ok       int
	tooMany  int
}

func (s *bucketServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	now := time.Now()
	if s.last.IsZero() {
		s.last = now
	}
	if s.discrete {
		steps := math.Floor(float64(now.Sub(s.last)) / float64(s.interval))
		s.level = math.Max(0, s.level-steps*s.amount)
		s.last = s.last.Add(time.Duration(steps) * s.interval)
	} else {
		s.level = math.Max(0, s.level-now.Sub(s.last).Seconds()*s.amount/s.interval.Seconds())
		s.last = now
	}
	status := http.StatusOK
	if s.level+1 > s.size {
		status = http.StatusTooManyRequests
		s.tooMany++
	} else {
		s.level++
		s.ok++
	}
	h := w.Header()
	h.Set(headerBucketSize, strconv.FormatFloat(s.size, 'f', -1, 64))
	h.Set(headerLeakRate, strconv.FormatFloat(s.interval.Seconds(), 'f', -1, 64))
	h.Set(headerLeakAmount, strconv.FormatFloat(s.amount, 'f', -1, 64))
	h.Set(headerRemaining, strconv.Itoa(int(math.Floor(s.size-s.level))))
	s.mu.Unlock()
	if status != http.StatusOK {
		w.WriteHeader(status)
		return
	}
	writeEnvelope(w, status, map[string]any{"currency_code": "GBP"}, nil)
}

func TestClientFlatOutGetsAtMostOne429FromABucketThatLeaksInSteps(t *testing.T) {
	for _, discrete := range []bool{true, false} {
		synctest.Test(t, func(t *testing.T) {
			srv := &bucketServer{size: 40, amount: 2, interval: time.Second, discrete: discrete}
			c := newTestClient(t, srv, Config{Budget: NewBudget(40, 2)})
			ctx, cancel := context.WithTimeout(WithPriority(t.Context(), PriorityOrders), 30*time.Second)
			defer cancel()
			var wg sync.WaitGroup
			for range 6 {
				wg.Go(func() {
					for ctx.Err() == nil {
						_, _ = c.Currency(ctx)
						time.Sleep(20 * time.Millisecond) // the round trip
					}
				})
			}
			wg.Wait()
			allowance := 40 + 2*30.0
			t.Logf("discrete=%v: %d ok, %d 429s of an allowance of %v", discrete, srv.ok, srv.tooMany, allowance)
			// A continuous leak never surprises the model; a stepped one does
			// once, after which the budget keeps a step of headroom.
			maxTooMany := 0
			if discrete {
				maxTooMany = 1
			}
			if srv.tooMany > maxTooMany || float64(srv.ok) < 0.95*allowance {
				t.Errorf("discrete=%v: %d ok, %d 429s; want ≤ %d 429s and ≥ %v ok", discrete, srv.ok, srv.tooMany, maxTooMany, 0.95*allowance)
			}
		})
	}
}
