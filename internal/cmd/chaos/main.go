// Command chaos is 'make chaos': it runs the whole system (Temporal dev server, a
// PostgreSQL server of its own, the simulator with faults, two worker processes
// sharing the shop's rate budget) through the full workload while it kills one
// worker at a time and restarts PostgreSQL, then checks that hub and shop agree
// exactly and that the shop's bucket itself never answered 429. It prints a table
// of what it did and found, writes it as JSON to .test/chaos.json and the workers'
// log to .test/chaos-worker.log, and exits 1 on any mismatch.
//
// With -hostile ('make chaos-hostile') an attacker and a misbehaving shop join in:
// forged and duplicate webhooks, poison orders, oversized products, a stale page.
//
// Usage: go run ./internal/cmd/chaos [-reduced] [-hostile] [-seed N] [-histories DIR]
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/ekmsync/ekmsync/internal/chaos"
	"github.com/ekmsync/ekmsync/internal/devserver"
	"github.com/ekmsync/ekmsync/internal/harness"
	"github.com/ekmsync/ekmsync/internal/temporaltest"
)

func main() {
	reduced := flag.Bool("reduced", false, "run the reduced workload of 'make test' instead of the full one")
	hostile := flag.Bool("hostile", false, "add forged and duplicate webhooks, poison orders, oversized products and a stale page")
	seed := flag.Int64("seed", 0, "the run's seed (default: the workload's own)")
	histories := flag.String("histories", "", "save the longest history of each workflow type to this folder (the replay corpus: workflows/testdata/chaos)")
	flag.Parse()
	var cfg chaos.Config
	switch {
	case *reduced && *hostile:
		cfg = chaos.ReducedHostile()
	case *reduced:
		cfg = chaos.Reduced()
	case *hostile:
		cfg = chaos.FullHostile()
	default:
		cfg = chaos.Full()
	}
	if *seed != 0 {
		cfg.Seed = *seed
	}
	cfg.HistoryDir = *histories
	if dir, err := devserver.OutputDir(); err == nil {
		cfg.WorkerLogFile = filepath.Join(dir, "chaos-worker.log")
	}
	os.Exit(run(cfg))
}

func run(cfg chaos.Config) int {
	defer temporaltest.Stop()
	tb := harness.NewProgramTB("chaos")
	defer tb.RunCleanups()
	interrupted := make(chan os.Signal, 1)
	signal.Notify(interrupted, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-interrupted // Ctrl-C: stop the run's PostgreSQL, worker and Temporal server, leave nothing behind
		fmt.Fprintln(os.Stderr, "chaos: interrupted, cleaning up")
		tb.RunCleanups()
		temporaltest.Stop()
		os.Exit(130)
	}()
	var report *chaos.Report
	if err := harness.Recover(func() error {
		report = chaos.Run(tb, cfg, os.Stderr)
		return nil
	}); err != nil {
		fmt.Fprintf(os.Stderr, "chaos: the run could not be set up: %v\n", err)
		return 1
	}
	report.Print(os.Stdout)
	if err := save(report); err != nil {
		fmt.Fprintf(os.Stderr, "chaos: %v\n", err)
	}
	if !report.OK() {
		return 1
	}
	return 0
}

// save writes the report to .test/chaos.json.
func save(r *chaos.Report) error {
	dir, err := devserver.OutputDir()
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "chaos.json"), b, 0o644)
}
