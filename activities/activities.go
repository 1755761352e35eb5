// Package activities holds ekmsync's Temporal activities: thin adapters between the
// workflows, the EKM client and the hub's store. Each activity is idempotent (writes
// are upserts on business keys, outbound sends are "desired minus confirmed") so that
// Temporal may retry it at any point.
package activities

import (
	"time"

	"github.com/ekmsync/ekmsync/internal/shop"
	"github.com/ekmsync/ekmsync/internal/store"
)

// Activities carries the dependencies every activity uses. Register a *Activities
// with the worker: each exported method is one activity.
type Activities struct {
	// Store is the hub.
	Store *store.Store
	// Shop builds each channel's EKM client (sealed credentials, shared rate
	// budget, the Enabled gate); one per worker process.
	Shop *shop.Connector
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// now returns the activities' clock.
func (a *Activities) now() time.Time {
	if a.Now == nil {
		return time.Now()
	}
	return a.Now()
}
