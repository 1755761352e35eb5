package contract

import (
	"time"

	"github.com/ekmsync/ekmsync/internal/channel"
)

// The push activities' contract (docs/channel-semantics.md §1, §3, §4): PushCheck,
// then PushDespatches, PushCancellations, PushStock and PushPrices.

// OrderClaimLease is how long a push attempt's claim on an order's outbound row
// lasts without renewal: how soon a row whose attempt died is taken by the next
// one. The push loop looks again after it when a pass found rows busy.
const OrderClaimLease = 15 * time.Second

// PushInput is the input of the push activities: the channel's name only.
type PushInput struct {
	Channel string `json:"channel"`
}

// PushCheckResult is what the push loop needs to know before a pass.
type PushCheckResult struct {
	Status channel.Status `json:"status"`
	// Runnable is false while the channel is disabled or needs reauthorisation:
	// the loop then idles, and the pending work waits in the hub.
	Runnable bool `json:"runnable"`
	// Sweep is the push-sweep-interval: how long the loop waits for a wake-up
	// before it looks again on its own.
	Sweep time.Duration `json:"sweep"`
	// Idle says the check found nothing for a pass to do (store.PushIdle): the
	// loop then runs none of the pass's four steps. A check recorded before the
	// field (false) ran them, so that its history replays unchanged.
	Idle bool `json:"idle,omitempty"`
}

// StepResult is what one call of a push activity did.
type StepResult struct {
	Sent int `json:"sent"`
	// Already counts work recorded as done without a call, because EKM already
	// showed it (a despatch EKM shows dispatched, a price EKM already has).
	Already int `json:"already,omitempty"`
	// NotSent counts work recorded as not to be sent (partial cancellations).
	NotSent int `json:"not_sent,omitempty"`
	// Held counts work held, with the reason.
	Held       int    `json:"held,omitempty"`
	HeldReason string `json:"held_reason,omitempty"`
	// Failed counts sends EKM refused, retried after a backoff, and sends it
	// answered with a server error, retried at the next pass (see failure).
	Failed int `json:"failed,omitempty"`
	// Busy counts orders another attempt of the push was working on: that
	// attempt finishes them, or, if it died, the next pass does once its claim
	// expires.
	Busy int `json:"busy,omitempty"`
	// More is true when the call stopped at its bound with work left.
	More bool `json:"more,omitempty"`
	// UrgentStock counts the stock sends a despatch step made when it stopped
	// with despatches left: listings coming down to a SKU at or near zero
	// (store.NearZero available), which would otherwise wait for the backlog.
	UrgentStock int `json:"urgent_stock,omitempty"`
	// WouldSend counts the EKM writes a channel in shadow mode would send: they
	// are recorded in the push plan, not sent (activities/push_shadow.go).
	WouldSend int `json:"would_send,omitempty"`
}

// Add adds o's counts to r.
func (r *StepResult) Add(o StepResult) {
	r.Sent += o.Sent
	r.Already += o.Already
	r.NotSent += o.NotSent
	r.Held = max(r.Held, o.Held)
	if o.HeldReason != "" {
		r.HeldReason = o.HeldReason
	}
	r.Failed += o.Failed
	r.Busy += o.Busy
	r.More = r.More || o.More
	r.UrgentStock += o.UrgentStock
	r.WouldSend += o.WouldSend
}
