package observe

import (
	"strings"
	"testing"
	"time"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/store"
)

// TestEventsNeedAPersonAtTheAlertRulesThresholds: each event holds exactly past
// the threshold deploy/monitoring/alerts.yml uses, and its text names the
// channel and the command that fixes it.
func TestEventsNeedAPersonAtTheAlertRulesThresholds(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	ago := func(d time.Duration) *time.Time { t := now.Add(-d); return &t }
	ok := channel.Settings{Name: "shop", Enabled: true, AuthState: channel.AuthOK, OrderSyncInterval: 5 * time.Minute,
		Mapping: channel.Mapping{"Paid": channel.Paid}}
	unmapped := ok
	unmapped.Mapping = channel.Mapping{"Paid": channel.Unmapped}
	for _, tc := range []struct {
		name    string
		s       channel.Settings
		h       store.ChannelHealth
		want    string // the event kind, "" for none
		command string
	}{
		{"healthy", ok, store.ChannelHealth{LastOrderSync: ago(time.Minute), TokensAt: ago(time.Hour)}, "", ""},
		{"misconfigured", unmapped, store.ChannelHealth{}, "misconfigured", "starter channel set shop status:"},
		{"sync within 3 intervals", ok, store.ChannelHealth{LastOrderSync: ago(15 * time.Minute)}, "", ""},
		{"sync stale", ok, store.ChannelHealth{LastOrderSync: ago(16 * time.Minute)}, "order-sync-stale", "starter orders status shop"},
		{"listing moving", ok, store.ChannelHealth{ListingInProgress: true, ListingUpdatedAt: ago(29 * time.Minute)}, "", ""},
		{"listing stuck", ok, store.ChannelHealth{ListingInProgress: true, ListingUpdatedAt: ago(31 * time.Minute)}, "listing-download-stuck", "starter listings download shop"},
		{"token 10 days", ok, store.ChannelHealth{TokensAt: ago(10 * 24 * time.Hour)}, "", ""},
		{"token old", ok, store.ChannelHealth{TokensAt: ago(10*24*time.Hour + time.Minute)}, "refresh-token-old", "starter channel reauthorise shop"},
		{"throttled briefly", ok, store.ChannelHealth{ThrottledSince: ago(14 * time.Minute)}, "", ""},
		{"throttled", ok, store.ChannelHealth{ThrottledSince: ago(15 * time.Minute)}, "rate-limited", "starter channel show shop"},
		{"quarantined", ok, store.ChannelHealth{Quarantined: 1}, "orders-quarantined", "starter orders problems shop"},
		{"drifted", ok, store.ChannelHealth{DriftedRows: 2}, "drift", "starter channel drift shop --drifted-only"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := events(tc.s, tc.h, now)
			if tc.want == "" {
				if len(got) != 0 {
					t.Fatalf("want no event, got %+v", got)
				}
				return
			}
			if len(got) != 1 || got[0].Kind != tc.want {
				t.Fatalf("want event %s, got %+v", tc.want, got)
			}
			if !strings.Contains(got[0].Text, "*shop*") || !strings.Contains(got[0].Text, tc.command) {
				t.Errorf("text lacks the channel or %q: %s", tc.command, got[0].Text)
			}
		})
	}
}
