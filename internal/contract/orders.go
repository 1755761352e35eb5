package contract

import (
	"encoding/json"
	"time"

	"github.com/ekmsync/ekmsync/internal/channel"
)

// The order activities' contract (docs/channel-semantics.md §2): SyncOrders,
// BackfillOrders and OrderSyncConfig.

// OrderCounts is what a sync, a webhook fetch or a back-fill did.
type OrderCounts struct {
	New              int           `json:"new"`
	Updated          int           `json:"updated"`
	Unchanged        int           `json:"unchanged"`
	Skipped          int           `json:"skipped"`
	Quarantined      int           `json:"quarantined"`
	Parked           int           `json:"parked"`             // new orders stored unpaid and parked
	Unparked         int           `json:"unparked"`           // parked orders now paid
	Cancelled        int           `json:"cancelled"`          // hub orders switched to cancelled
	ShippedOnChannel int           `json:"shipped_on_channel"` // hub orders marked shipped on the channel
	Skips            []SkipReason  `json:"skips,omitempty"`
	Problems         []Quarantined `json:"problems,omitempty"`
	Requests         int           `json:"requests"` // EKM requests: pages, items, orders by id
	Pages            int           `json:"pages"`
}

// SkipReason counts the orders skipped for one reason, with a few of their ids.
type SkipReason struct {
	Reason   string  `json:"reason"`
	Count    int     `json:"count"`
	OrderIDs []int64 `json:"order_ids"`
}

// Quarantined is an order that could not be used, with the reason.
type Quarantined struct {
	Key     string `json:"key"`
	OrderID *int64 `json:"order_id,omitempty"`
	Reason  string `json:"reason"`
}

// SyncOrdersInput asks for an order sync of a channel.
type SyncOrdersInput struct {
	Channel string `json:"channel"`
	// Hints are EKM order ids to fetch by id (webhooks), besides the sync.
	Hints []int64 `json:"hints,omitempty"`
	// HintsOnly fetches only the hints: no window, no re-checks, no cursor move.
	HintsOnly bool `json:"hints_only,omitempty"`
}

// SyncOrdersResult is what a sync did, and the channel's state and interval for
// the loop.
type SyncOrdersResult struct {
	Channel string         `json:"channel"`
	Status  channel.Status `json:"status"`
	Ran     bool           `json:"ran"` // false: the channel was not ok, EKM was not called
	OrderCounts
	Rechecked    int           `json:"rechecked"`                 // parked, watched and quarantined orders re-read by id
	HintsMissing []int64       `json:"hints_missing,omitempty"`   // webhook ids EKM does not have
	SyncDate     *time.Time    `json:"order_sync_date,omitempty"` // also read as sync_date (UnmarshalJSON)
	Interval     time.Duration `json:"interval"`
	StartedAt    time.Time     `json:"started_at"`
	FinishedAt   time.Time     `json:"finished_at"`
}

// BackfillOrdersInput asks to re-read a channel's orders placed in [From, To), or
// the orders with the given ids.
type BackfillOrdersInput struct {
	Channel string     `json:"channel"`
	From    *time.Time `json:"from,omitempty"`
	To      *time.Time `json:"to,omitempty"`
	IDs     []int64    `json:"ids,omitempty"`
}

// BackfillOrdersResult is what a back-fill did.
type BackfillOrdersResult struct {
	Channel string         `json:"channel"`
	Status  channel.Status `json:"status"`
	Ran     bool           `json:"ran"`
	OrderCounts
	Missing    []int64   `json:"missing,omitempty"` // requested ids EKM does not have
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
}

// OrderLoopConfig is what the order-sync loop needs to know of its channel
// between syncs.
type OrderLoopConfig struct {
	Status   channel.Status `json:"status"`
	Interval time.Duration  `json:"interval"`
}

// UnmarshalJSON reads a result, accepting the Order Sync Date under its former
// name sync_date too: results recorded in histories before the rename still
// decode. (A type that embeds SyncOrdersResult inherits this method: embed it
// only in types that are never decoded.)
func (r *SyncOrdersResult) UnmarshalJSON(b []byte) error {
	type plain SyncOrdersResult
	var v struct {
		plain
		Legacy *time.Time `json:"sync_date"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*r = SyncOrdersResult(v.plain)
	if r.SyncDate == nil {
		r.SyncDate = v.Legacy
	}
	return nil
}
