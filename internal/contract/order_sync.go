package contract

import (
	"time"

	"github.com/ekmsync/ekmsync/internal/channel"
)

// The order-sync loop's state (docs/channel-semantics.md §2): one struct that is
// at once the loop's memory, the payload it continues as new with, and the
// answer to its status query. A starter's {"channel": ...} is a loop with no
// state yet.

// Phases of the order-sync loop, as its state reports them.
const (
	PhaseSyncing = "syncing" // a sync or a fetch of hints runs
	PhaseWaiting = "waiting" // for the interval, a wake-up, a hint or a sync-now
	PhaseIdle    = "idle"    // the channel is disabled, needs reauthorisation or is misconfigured
)

// OrderSyncState is the order-sync loop's state.
type OrderSyncState struct {
	Channel string `json:"channel"`
	// State and Reason are the channel's state as the loop last read it; empty
	// before its first read.
	State  channel.State `json:"state"`
	Reason string        `json:"reason,omitempty"`
	// Phase is PhaseSyncing, PhaseWaiting or PhaseIdle.
	Phase      string            `json:"phase"`
	SyncDate   *time.Time        `json:"order_sync_date,omitempty"`
	LastRunAt  *time.Time        `json:"last_run_at,omitempty"`
	NextRunAt  *time.Time        `json:"next_run_at,omitempty"`
	Interval   time.Duration     `json:"interval"`
	LastResult *SyncOrdersResult `json:"last_result,omitempty"`
	LastHints  *SyncOrdersResult `json:"last_hints,omitempty"`
	LastError  string            `json:"last_error,omitempty"`
	// Hints are the webhook order ids waiting to be fetched by id.
	Hints []int64 `json:"hints,omitempty"`
	// Woken says a wake signal came that the loop has not acted on yet: it
	// re-reads its channel first.
	Woken bool `json:"woken,omitempty"`
	// QueuedSyncs counts the sync-now requests waiting for a sync; always 0 when
	// the loop continues as new, which it does only once every one is answered.
	QueuedSyncs int             `json:"queued_syncs"`
	Totals      OrderSyncTotals `json:"totals"`
}

// ChannelStatus is the channel's state and reason as the loop last read them.
func (s OrderSyncState) ChannelStatus() channel.Status {
	return channel.Status{State: s.State, Reason: s.Reason}
}

// PendingHints is how many webhook ids wait to be fetched.
func (s OrderSyncState) PendingHints() int { return len(s.Hints) }

// OrderSyncTotals add up what the loop did since it started (across runs).
type OrderSyncTotals struct {
	Syncs        int `json:"syncs"`
	HintFetches  int `json:"hint_fetches"`
	Failures     int `json:"failures"`
	New          int `json:"new"`
	Updated      int `json:"updated"`
	Skipped      int `json:"skipped"`
	Quarantined  int `json:"quarantined"`
	Requests     int `json:"requests"`
	Continuances int `json:"continuances"`
}
