package chaos

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/ekmsync/ekmsync/internal/ekmsim"
	"github.com/ekmsync/ekmsync/internal/harness"
	"github.com/ekmsync/ekmsync/internal/pgtemp"
	"github.com/ekmsync/ekmsync/internal/store"
)

// runner is one run's state, shared by its drivers.
type runner struct {
	cfg     Config
	env     *harness.Env
	pg      *pgtemp.Server
	log     io.Writer
	start   time.Time
	catalog catalog
	// stockSKUs are the SKUs whose stock the hub changes; half of the order lines
	// are of them.
	stockSKUs []string

	mu       sync.Mutex
	orders   []int64                  // EKM ids of the orders that arrived
	shipped  map[int64][]store.Parcel // EKM order id -> the parcels the hub shipped it with
	stockSet map[string]bool          // SKUs whose stock the hub changed
	priceSet map[string]bool

	stockChanges, priceChanges, kills, pgRestarts, hubRetries atomic.Int64
	// killsOf counts the kills of each worker process; requestsWhileDown the
	// EKM API requests made while one was down (the others' work).
	killsOf           []int
	requestsWhileDown int

	// The hostile mode's: the oversized products' ids, the EKM ids of the poison
	// orders the hub must quarantine, the worker's answers to the forged and the
	// duplicate webhooks, and the hints the receiver handed over.
	oversized          map[int64]bool
	poison             []int64
	forged, duplicates answers
	hintsHanded        int
}

// Run runs the system under cfg on tb and returns what it did and found. Setup
// failures end tb (Fatal); a run whose hub and shop disagree returns a Report that
// is not OK.
func Run(tb harness.TB, cfg Config, log io.Writer) *Report {
	ctx := context.Background()
	pg, err := pgtemp.Start(ctx, tb.TempDir())
	if err != nil {
		tb.Fatalf("start a PostgreSQL server of the run's own (it is restarted during the run): %v", err)
	}
	tb.Cleanup(pg.Close)
	suffix := make([]byte, 3)
	_, _ = rand.Read(suffix)
	workers := max(cfg.Workers, 1)
	fmt.Fprintf(log, "chaos: setting up %d products, %d worker processes, PostgreSQL on its own port\n", cfg.Products, workers)
	env := harness.New(tb, harness.Options{
		Sim: ekmsim.Options{Seed: cfg.Seed, Products: cfg.Products, VariantShare: cfg.VariantShare, SKUProblems: cfg.SKUProblems,
			BucketSize: cfg.BucketSize, LeakPerSecond: cfg.LeakPerSecond},
		Channel: "chaos-" + hex.EncodeToString(suffix), Settings: settings, WorkerProcess: true, Workers: workers,
		DatabaseURL: pg.URL("ekmsync"),
	})
	r := &runner{cfg: cfg, env: env, pg: pg, log: log, killsOf: make([]int, workers),
		shipped: map[int64][]store.Parcel{}, stockSet: map[string]bool{}, priceSet: map[string]bool{}}
	if n := cfg.Hostile.OversizedProducts; n > 0 {
		if r.oversized, err = makeOversized(env.Sim, n); err != nil {
			tb.Fatalf("%v", err)
		}
	}
	r.catalog = newCatalog(r.shopProducts())
	r.stockSKUs = r.pool(r.rng(3), cfg.StockSKUs)
	env.MustCLI("listings", "download", env.Channel)
	env.Sim.SetFaults(cfg.Faults)
	if cfg.Hostile.StalePages > 0 {
		env.Sim.SetHostile(ekmsim.Hostile{StalePages: cfg.Hostile.StalePages})
	}
	r.start = time.Now()
	fmt.Fprintf(log, "chaos: traffic for %s, faults on, %d kills of one of %d workers, PostgreSQL restart %v\n", cfg.Window, cfg.Kills, workers, cfg.RestartPostgres)

	report := &Report{Config: cfg, Channel: env.Channel}
	if err := r.traffic(ctx); err != nil {
		report.Errors = append(report.Errors, err.Error())
	}
	report.TrafficTook = time.Since(r.start)
	settleStart := time.Now()
	report.Found, report.Settled = r.settle(ctx)
	report.SettleTook = time.Since(settleStart)
	report.Found = append(report.Found, r.checkBucket())
	r.fill(report)
	if cfg.WorkerLogFile != "" {
		if err := os.WriteFile(cfg.WorkerLogFile, []byte(env.WorkerLog()), 0o644); err != nil {
			fmt.Fprintf(log, "chaos: could not save the workers' log: %v\n", err)
		} else {
			fmt.Fprintf(log, "chaos: the workers' log is in %s\n", cfg.WorkerLogFile)
		}
	}
	if cfg.HistoryDir != "" {
		saved, err := saveHistories(ctx, env.Temporal, env.Channel, cfg.HistoryDir)
		if err != nil {
			fmt.Fprintf(log, "chaos: could not save the histories: %v\n", err)
		}
		for _, s := range saved {
			fmt.Fprintf(log, "chaos: saved %s\n", s)
		}
	}
	if !report.OK() {
		fmt.Fprintf(log, "chaos: workers' log (tail):\n%s\n", tail(env.WorkerLog(), 6000))
	}
	return report
}

// traffic runs the drivers until the window's traffic is done.
func (r *runner) traffic(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Window+r.cfg.Settle)
	defer cancel()
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return r.arriveOrders(gctx) })
	g.Go(func() error { return r.shipOrders(gctx) })
	g.Go(func() error { return r.changeStock(gctx) })
	g.Go(func() error { return r.changePrices(gctx) })
	g.Go(func() error { return r.monkey(gctx) })
	if r.cfg.Hostile.ForgedWebhooks > 0 {
		g.Go(func() error { return r.forgeWebhooks(gctx) })
	}
	if r.cfg.Hostile.DuplicateHints > 0 {
		g.Go(func() error { return r.duplicateHints(gctx) })
	}
	progressCtx, stopProgress := context.WithCancel(ctx)
	defer stopProgress()
	go r.progress(progressCtx)
	return g.Wait()
}

// settle waits until the checks find no mismatch (or Settle passes), then
// checks once more a little later, so that a late duplicate is seen too.
func (r *runner) settle(ctx context.Context) ([]Finding, bool) {
	deadline := time.Now().Add(r.cfg.Settle)
	fmt.Fprintf(r.log, "chaos: traffic done; waiting up to %s for hub and shop to agree\n", r.cfg.Settle)
	for {
		found, err := r.check(ctx)
		if err == nil && agree(found) {
			time.Sleep(15 * time.Second)
			found, err = r.check(ctx)
			if err != nil {
				return []Finding{{Check: "the final check", Mismatches: []string{err.Error()}, Count: 1}}, false
			}
			return found, true
		}
		if time.Now().After(deadline) {
			if err != nil {
				found = append(found, Finding{Check: "the final check", Mismatches: []string{err.Error()}, Count: 1})
			}
			return found, false
		}
		r.printProgress(found)
		time.Sleep(5 * time.Second)
	}
}

// at waits until offset after the start of the traffic.
func (r *runner) at(ctx context.Context, offset time.Duration) error {
	return sleep(ctx, time.Until(r.start.Add(offset)))
}

// spread is the offset of event i of n spread evenly over the window.
func (r *runner) spread(i, n int) time.Duration {
	return time.Duration(int64(r.cfg.Window) * int64(i) / int64(max(n, 1)))
}

// rng returns a generator of the run's seed for one driver.
func (r *runner) rng(stream uint64) *mrand.Rand {
	return mrand.New(mrand.NewPCG(uint64(r.cfg.Seed), stream))
}

// retry runs a hub write until it succeeds: the database may be restarting. It
// gives up after a minute of failures.
func (r *runner) retry(ctx context.Context, what string, f func(context.Context) error) error {
	giveUp := time.Now().Add(time.Minute)
	for {
		err := f(ctx)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w", what, ctx.Err())
		}
		if time.Now().After(giveUp) {
			return fmt.Errorf("%s: %w", what, err)
		}
		r.hubRetries.Add(1)
		time.Sleep(200 * time.Millisecond)
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}
