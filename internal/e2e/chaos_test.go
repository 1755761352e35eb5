package e2e

import (
	"strings"
	"testing"

	"github.com/ekmsync/ekmsync/internal/chaos"
)

// The reduced chaos run: the whole system under the simulator's faults, worker
// kills and a PostgreSQL restart ends with hub and shop agreeing on every listing,
// order, despatch, stock level and price. 'make chaos' runs the full workload.
func TestChaosReduced(t *testing.T) {
	cfg := chaos.Reduced()
	report := chaos.Run(t, cfg, testLog{t})
	var out strings.Builder
	report.Print(&out)
	t.Log(out.String())
	if !report.OK() {
		t.Fatal("hub and shop do not agree after the chaos run (table above)")
	}
	// The run must have met what it names, or it proves nothing.
	f := report.Requests.Faults
	if report.Did.Kills < int64(cfg.Kills) || report.Did.PGRestarts != 1 {
		t.Errorf("%d kills and %d PostgreSQL restarts, want %d and 1", report.Did.Kills, report.Did.PGRestarts, cfg.Kills)
	}
	if f.ServerErrors == 0 || f.RateLimited == 0 || f.Malformed+f.Slow == 0 {
		t.Errorf("faults injected %+v: some kind never fired", f)
	}
	if report.Did.Orders != cfg.Orders || report.Did.Despatches != cfg.Despatches ||
		report.Did.StockChanges != int64(cfg.StockChanges) || report.Did.PriceChanges != int64(cfg.PriceChanges) {
		t.Errorf("the run did %+v, short of %+v", report.Did, cfg)
	}
}

// testLog writes the run's progress lines to the test's log.
type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
