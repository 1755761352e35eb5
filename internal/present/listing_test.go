package present

import (
	"testing"
	"time"

	"github.com/ekmsync/ekmsync/internal/contract"
)

func TestEstimatedCompletionIsUnknownUntilTheTotalAndDashWhenIdle(t *testing.T) {
	now := time.Now()
	if got := ETA(contract.ListingDownloadState{InProgress: true}, now); got != "unknown" {
		t.Fatalf("in progress without estimate: %q", got)
	}
	if got := ETA(contract.ListingDownloadState{}, now); got != "-" {
		t.Fatalf("idle: %q", got)
	}
	at := now.Add(90 * time.Second)
	if got := ETA(contract.ListingDownloadState{InProgress: true, EstimatedCompletion: &at}, now); got != UTC(&at)+" UTC (in 1m30s)" {
		t.Fatalf("in progress: %q", got)
	}
}

func TestCountWritesThousandsSeparators(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -12345: "-12,345"} {
		if got := Count(n); got != want {
			t.Errorf("Count(%d) = %q, want %q", n, got, want)
		}
	}
}
