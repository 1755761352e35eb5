package e2e

import (
	"strings"
	"testing"

	"github.com/ekmsync/ekmsync/internal/chaos"
)

// The reduced chaos run, hostile: the whole system under the simulator's faults,
// two worker processes sharing the shop's rate budget and killed one at a time, a
// PostgreSQL restart, forged and duplicate webhooks, poison orders, oversized
// products and a stale page ends with hub and shop agreeing on every listing,
// order, despatch, stock level and price, every poison order quarantined, no
// forged webhook reaching the order sync, no workflow run closed by a fault, and
// no 429 from the shop's bucket itself (only injected ones). 'make chaos' and 'make chaos-hostile' run the full workload.
func TestChaosReduced(t *testing.T) {
	cfg := chaos.ReducedHostile()
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
	if cfg.Workers < 2 || len(report.Did.KillsOf) != cfg.Workers {
		t.Errorf("%d worker processes (kills of each %v), want 2 or more sharing the budget", cfg.Workers, report.Did.KillsOf)
	}
	if f.ServerErrors == 0 || f.RateLimited == 0 || f.Malformed+f.Slow == 0 {
		t.Errorf("faults injected %+v: some kind never fired", f)
	}
	d, h := report.Did, cfg.Hostile
	if d.ForgedWebhooks["202"] != 0 || sumAnswers(d.ForgedWebhooks) != h.ForgedWebhooks || d.DuplicateHints["202"] == 0 {
		t.Errorf("webhook answers: forged %v, duplicates %v: a forged one was accepted, or none of the real ones", d.ForgedWebhooks, d.DuplicateHints)
	}
	if d.PoisonOrders == 0 || d.Oversized != h.OversizedProducts || d.StalePages != h.StalePages {
		t.Errorf("the hostile input did not all happen: %d poison orders, %d oversized products, %d stale pages", d.PoisonOrders, d.Oversized, d.StalePages)
	}
	if report.Did.Orders+report.Did.PoisonOrders != cfg.Orders || report.Did.Despatches != cfg.Despatches ||
		report.Did.StockChanges != int64(cfg.StockChanges) || report.Did.PriceChanges != int64(cfg.PriceChanges) {
		t.Errorf("the run did %+v, short of %+v", report.Did, cfg)
	}
}

func sumAnswers(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// testLog writes the run's progress lines to the test's log.
type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
