// Package activities holds ekmsync's Temporal activities: thin adapters between the
// workflows, the EKM client and the hub's store. Each activity is idempotent (writes
// are upserts on business keys, outbound sends are "desired minus confirmed") so that
// Temporal may retry it at any point.
package activities

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/ekmsync/ekmsync/internal/secret"
	"github.com/ekmsync/ekmsync/internal/shop"
	"github.com/ekmsync/ekmsync/internal/store"
)

// Activities carries the dependencies every activity uses. Register a *Activities
// with the worker: each exported method is one activity.
type Activities struct {
	Store      *store.Store
	Key        *secret.Key
	Shop       *shop.Connector
	HTTPClient *http.Client
	Logger     *slog.Logger
	Now        func() time.Time
}

// now returns the activities' clock.
func (a *Activities) now() time.Time {
	if a.Now == nil {
		return time.Now()
	}
	return a.Now()
}
