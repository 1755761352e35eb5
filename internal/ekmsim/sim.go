package ekmsim

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// Sim is one simulated EKM shop with its OAuth client. It is safe for
// concurrent use: the HTTP handler, the Go methods and the background jobs may
// all run at once.
type Sim struct {
	opts Options
	log  *slog.Logger

	mu  sync.RWMutex // guards st and gen
	st  *store
	gen *generator

	auth    *authority
	limiter *limiter
	faults  *injector
	stats   *requestStats
	hostile *hostility
	writes  *writeLog
	holds   writeHolds
	hookRNG *lockedRand // webhook duplicates and subscription ids
	handler http.Handler

	bgMu     sync.Mutex // guards the fields below
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	closed   bool
	jobsDone bool // StartJobs ran
	servers  []*Server
}

// New builds a simulator and seeds its data from opts (see Options for the
// defaults). Nothing runs in the background until Start or StartJobs.
func New(opts Options) *Sim {
	o := opts.withDefaults()
	s := &Sim{
		opts:    o,
		log:     o.Logger,
		st:      newStore(),
		gen:     newGenerator(o.Seed),
		auth:    newAuthority(o),
		limiter: newLimiter(o.BucketSize, o.LeakPerSecond),
		faults:  newInjector(o.Seed, o.Faults),
		hostile: &hostility{},
		stats:   newRequestStats(),
		writes:  &writeLog{},
		hookRNG: newLockedRand(o.Seed),
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	now := s.now()
	seedProducts(s.st, s.gen, o, now)
	seedOrders(s.st, s.gen, o.Orders, now)
	s.handler = s.routes()
	return s
}

// now reads the configured clock, at EKM's 100 ns precision.
func (s *Sim) now() time.Time { return ekmTime(s.opts.Now()) }

// Handler returns the whole EKM API plus /admin as one http.Handler.
func (s *Sim) Handler() http.Handler { return s.handler }

// StartJobs starts the background jobs that need no listener: the arrival of
// a new order every Options.OrderEvery. Start calls it; tests that serve the
// Handler themselves call it when they want orders to arrive. It is
// idempotent and a no-op after Close.
func (s *Sim) StartJobs() {
	s.bgMu.Lock()
	done := s.jobsDone
	s.jobsDone = true
	s.bgMu.Unlock()
	if done || s.opts.OrderEvery <= 0 {
		return
	}
	s.spawn(func(ctx context.Context) {
		t := time.NewTicker(s.opts.OrderEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				o := s.arriveOrder()
				s.log.Info("order arrived", "id", o.ID, "order_number", o.OrderNumber, "status", o.Status)
			}
		}
	})
}

// spawn runs f in a goroutine that Close cancels and waits for. It reports
// false, without running f, once the simulator is closed.
func (s *Sim) spawn(f func(ctx context.Context)) bool {
	s.bgMu.Lock()
	defer s.bgMu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f(s.ctx)
	}()
	return true
}

// Close stops the background jobs (order arrival, webhook deliveries and
// their retries) and closes the servers Start opened, then waits for them.
func (s *Sim) Close() {
	s.bgMu.Lock()
	s.closed = true
	servers := s.servers
	s.servers = nil
	s.bgMu.Unlock()
	s.cancel()
	for _, srv := range servers {
		_ = srv.Close()
	}
	s.wg.Wait()
}

// lockedRand is a seeded generator safe for concurrent use.
type lockedRand struct {
	mu  sync.Mutex
	rng *rand.Rand
}

func newLockedRand(seed int64) *lockedRand {
	return &lockedRand{rng: rand.New(rand.NewPCG(uint64(seed), 0x686f6f6b73))}
}

// chance reports true with probability p.
func (l *lockedRand) chance(p float64) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.rng.Float64() < p
}

// uuid returns a version 4 UUID from the seeded sequence.
func (l *lockedRand) uuid() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return (&generator{rng: l.rng}).uuid()
}
