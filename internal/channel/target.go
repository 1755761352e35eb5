// Package channel holds a channel's settings, their validation, and the pure rules of
// docs/channel-semantics.md: the order status mapping, the quantity sent to EKM, tax, and
// the listing download's estimated completion. Nothing here does I/O, so every rule
// has table tests.
package channel

import (
	"fmt"
	"strings"
)

// Target is what an EKM order status maps to (docs/channel-semantics.md §2).
type Target string

// The mapping targets.
const (
	Unmapped  Target = "unmapped"
	Paid      Target = "paid"
	Unpaid    Target = "unpaid"
	Shipped   Target = "shipped"
	Cancelled Target = "cancelled"
)

// Targets lists every target, in the order of the channel screen.
var Targets = []Target{Unmapped, Paid, Unpaid, Shipped, Cancelled}

// ParseTarget reads a target name, case-insensitively.
func ParseTarget(s string) (Target, error) {
	t := Target(strings.ToLower(strings.TrimSpace(s)))
	for _, known := range Targets {
		if t == known {
			return t, nil
		}
	}
	return "", fmt.Errorf("mapping target %q is not one of Unmapped, Paid, Unpaid, Shipped, Cancelled", s)
}

// Title is the target's name as the channel screen shows it.
func (t Target) Title() string {
	if t == "" {
		return "Unmapped"
	}
	return strings.ToUpper(string(t[:1])) + string(t[1:])
}

// Mapping maps EKM statuses (compared case-insensitively: orders carry "DISPATCHED",
// the settings endpoint "Dispatched") to targets.
type Mapping map[string]Target

// Target returns the target of an EKM status; a status not in the mapping is Unmapped.
func (m Mapping) Target(status string) Target {
	for name, t := range m {
		if strings.EqualFold(name, status) {
			return t
		}
	}
	return Unmapped
}

// StatusFor returns the EKM status mapped to t, for sending (the first in name order
// when several map to it), and whether there is one. EKM's PUT /status takes the
// uppercase form of the status name (docs/ekm-api.md §6, ASSUMED).
func (m Mapping) StatusFor(t Target) (string, bool) {
	best := ""
	for name, target := range m {
		if target == t && (best == "" || name < best) {
			best = name
		}
	}
	return strings.ToUpper(best), best != ""
}

// Has reports whether some status maps to t.
func (m Mapping) Has(t Target) bool {
	_, ok := m.StatusFor(t)
	return ok
}

// DefaultMapping proposes a mapping for a shop's statuses, from their usual meaning
// on EKM: the operator confirms or edits it at 'channel add'. Unknown (custom)
// statuses are left Unmapped.
func DefaultMapping(statuses []string) Mapping {
	m := Mapping{}
	for _, s := range statuses {
		switch strings.ToUpper(strings.TrimSpace(s)) {
		case "PROCESSING", "COMPLETE", "COMPLETED", "PAID":
			m[s] = Paid
		case "PENDING", "AWAITING PAYMENT":
			m[s] = Unpaid
		case "DISPATCHED", "SHIPPED":
			m[s] = Shipped
		case "CANCELLED", "CANCELED", "DECLINED", "REFUNDED", "FAILED":
			m[s] = Cancelled
		default:
			m[s] = Unmapped
		}
	}
	return m
}
