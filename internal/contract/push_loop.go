package contract

import (
	"time"

	"github.com/ekmsync/ekmsync/internal/channel"
)

// The push loop's state (docs/channel-semantics.md §4): one struct that is at
// once the loop's memory, the payload it continues as new with, and the answer
// to its status query. A starter's {"channel": ...} is a loop with no state yet.

// The push loop's phases, as its state reports them.
const (
	PushRunning = "running" // a pass runs
	PushWaiting = "waiting" // for a hub change, a push-now or the sweep
	PushIdle    = "idle"    // the channel is disabled or needs reauthorisation
)

// PushState is the push loop's state.
type PushState struct {
	Channel string `json:"channel"`
	// State is the loop's phase: PushRunning, PushWaiting or PushIdle (empty
	// before its first check).
	State string `json:"state"`
	// ChannelState is the channel's state as the last check read it.
	ChannelState channel.Status `json:"channel_state"`
	// Passes counts the passes of the loop's whole life.
	Passes int `json:"passes"`
	// NextSweep is when the loop looks again on its own, while it waits.
	NextSweep *time.Time `json:"next_sweep,omitempty"`
	// Last is the latest pass.
	Last *PushPass `json:"last,omitempty"`
	// Woken says a wake-up (or a pass that stopped at its bound) asks for
	// another pass at once.
	Woken bool `json:"woken,omitempty"`
	// Refused says the last pass was refused (EKM or the gate) while the hub
	// still said runnable: the loop waits a sweep before it tries again, so that
	// a refusal cannot make it a busy loop.
	Refused bool `json:"refused,omitempty"`
}

// PushPass is what one pass of the loop did, step by step.
type PushPass struct {
	Started       time.Time  `json:"started"`
	Ended         time.Time  `json:"ended"`
	Despatches    StepResult `json:"despatches"`
	Cancellations StepResult `json:"cancellations"`
	Stock         StepResult `json:"stock"`
	Prices        StepResult `json:"prices"`
	// More is true when a step stopped at its bound: another pass follows at once.
	More bool `json:"more,omitempty"`
	// Error says why the pass stopped early, if it did; the next wake-up or
	// sweep tries again.
	Error string `json:"error,omitempty"`
}

// PushNowResult is the answer of the push-now Update: the pass it ran, or why
// none ran.
type PushNowResult struct {
	Ran          bool           `json:"ran"`
	ChannelState channel.Status `json:"channel_state"`
	Pass         *PushPass      `json:"pass,omitempty"`
}
