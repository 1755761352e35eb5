package channel

import (
	"fmt"
	"time"
)

// CancelledMaxAge is how old a cancelled order may be and still be downloaded (§2).
const CancelledMaxAge = 7 * 24 * time.Hour

// Action is what an order sync does with one EKM order.
type Action string

// The order actions.
const (
	ActionSkip   Action = "skip"   // not downloaded (Reason says why)
	ActionStore  Action = "store"  // insert, or update the hub's copy
	ActionShip   Action = "ship"   // already in the hub: mark shipped on the channel, send no despatch
	ActionCancel Action = "cancel" // already in the hub: switch to cancelled, release its stock
)

// OrderFacts is what the order rules look at: the EKM order, and the hub's copy if any.
type OrderFacts struct {
	Status    string    // EKM status
	Paid      bool      // paid by EKM: payment_status SUCCESS and a transaction id
	OrderDate time.Time // EKM order_date
	Now       time.Time
	InHub     bool   // the hub already has this order
	HubStatus string // open, shipped or cancelled, when InHub
}

// OrderDecision is the outcome of the order rules for one order.
type OrderDecision struct {
	Action Action
	Target Target // the target the EKM status maps to
	Paid   bool   // store as paid
	Parked bool   // store as unpaid and parked (re-checked by id on every sync)
	Status string // hub status to store for a new order: open or cancelled
	Reason string // why, in words (always set for skips)
}

// DecideOrder applies the mapping rules of docs/channel-semantics.md §2 to one order.
func (s Settings) DecideOrder(f OrderFacts) OrderDecision {
	target := s.Mapping.Target(f.Status)
	d := OrderDecision{Target: target}
	switch target {
	case Shipped:
		if f.InHub {
			d.Action, d.Reason = ActionShip, "shipped on EKM: marked shipped on channel, no despatch will be sent"
			return d
		}
		d.Action, d.Reason = ActionSkip, fmt.Sprintf("status %s maps to Shipped: fulfilled outside the hub", f.Status)
		return d
	case Cancelled:
		if f.InHub {
			d.Action, d.Reason = ActionCancel, "cancelled on EKM"
			return d
		}
		if f.Now.Sub(f.OrderDate) < CancelledMaxAge {
			d.Action, d.Status, d.Paid, d.Reason = ActionStore, "cancelled", f.Paid, "cancelled on EKM, under 7 days old"
			return d
		}
		d.Action, d.Reason = ActionSkip, "cancelled and 7 days old or more"
		return d
	case Paid, Unmapped:
		if f.Paid {
			d.Action, d.Paid, d.Status = ActionStore, true, "open"
			if target == Unmapped {
				d.Reason = fmt.Sprintf("status %s is unmapped, but EKM marked it paid", f.Status)
			}
			return d
		}
		if target == Unmapped {
			return s.unpaid(d, f, fmt.Sprintf("status %s is unmapped and the order is not paid", f.Status), false)
		}
		return s.unpaid(d, f, "status maps to Paid but EKM has not marked it paid (payment_status SUCCESS with a transaction id)", true)
	default: // Unpaid
		return s.unpaid(d, f, fmt.Sprintf("status %s maps to Unpaid", f.Status), true)
	}
}

// unpaid handles an order that is not paid. An order already in the hub is refreshed
// (never downgraded); a new one is parked when unpaid download is on and the status
// allows it, and skipped otherwise.
func (s Settings) unpaid(d OrderDecision, f OrderFacts, why string, parkable bool) OrderDecision {
	if f.InHub {
		d.Action, d.Reason = ActionStore, why+": hub copy refreshed"
		return d
	}
	if parkable && s.DownloadUnpaid {
		d.Action, d.Parked, d.Status, d.Reason = ActionStore, true, "open", why+": downloaded unpaid and parked"
		return d
	}
	d.Action = ActionSkip
	if parkable {
		d.Reason = why + ", and Download Unpaid Orders is off"
	} else {
		d.Reason = why
	}
	return d
}
