package cli

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ekmsync/ekmsync/internal/drift"
	"github.com/ekmsync/ekmsync/internal/store"
)

// --since takes days, a duration or a UTC date, and refuses a window in the
// future, beyond 90 days, or unreadable, as a usage error.
func TestDriftSinceIsBoundedAndReadable(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"7d":         now.Add(-7 * 24 * time.Hour),
		"36h":        now.Add(-36 * time.Hour),
		"2026-03-01": time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC),
	} {
		if got, err := parseSince(in, now); err != nil || !got.Equal(want) {
			t.Errorf("--since %s = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0d", "-1d", "91d", "x", "2026-04-01", "1e9h", "d"} {
		var u usageError
		if _, err := parseSince(in, now); !errors.As(err, &u) {
			t.Errorf("--since %q: err = %v, want a usage error", in, err)
		}
	}
}

// The text report gives the counts, every row that is not ok with its reason, and
// the command that heals.
func TestDriftTextShowsCountsRowsAndTheHealCommand(t *testing.T) {
	r := drift.Report{Channel: "shop", Counts: drift.Counts{Stock: 1, MissedOrders: 1},
		Listings: []drift.ListingRow{
			{ListingKey: store.ListingKey{ProductID: 7}, SKU: "A", Kind: drift.KindStock, State: drift.StateDrifted, EKM: "9", Hub: "5", Confirmed: "5", Reason: "changed on EKM"},
			{ListingKey: store.ListingKey{ProductID: 8}, SKU: "B", Kind: drift.KindStock, State: drift.StateOK, EKM: "1", Hub: "1"},
		},
		Orders: []drift.OrderRow{{EKMOrderID: 42, Number: "N42", Kind: drift.KindMissed, State: drift.StateDrifted, EKMStatus: "PROCESSING", Reason: "not in the hub"}}}
	var b bytes.Buffer
	driftResult{Report: r}.text(&b)
	out := b.String()
	for _, want := range []string{"2 drifted", "stock 1,", "missed orders 1", "7 ", "changed on EKM", "42 ", "not in the hub", "channel drift shop --heal"} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\n8 ") {
		t.Errorf("text lists an ok row:\n%s", out)
	}
}
