// Package activities holds ekmsync's Temporal activities: thin adapters between the
// workflows, the EKM client and the hub's store. Each activity is idempotent (writes
// are upserts on business keys, outbound sends are "desired minus confirmed") so that
// Temporal may retry it at any point.
package activities

import (
	"context"
	"sync/atomic"
	"time"

	"go.temporal.io/sdk/activity"

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

// keepAliveEvery is how often a running activity heartbeats.
const keepAliveEvery = 2 * time.Second

// keepAlive heartbeats every keepAliveEvery until the returned stop is called, so
// that one slow EKM answer or a long wait for rate budget does not look like a
// lost worker: a lost worker stops heartbeating, and Temporal retries the call
// elsewhere after the heartbeat timeout. With progress, each heartbeat carries its
// current value (the listing download's last committed page), else no details.
// Heartbeats end with ctx: when the worker stops, StopInterceptor cancels it, so a
// stopping worker is not held by them, nor logs their failures over and over.
func keepAlive(ctx context.Context, progress *atomic.Int64) (stop func()) {
	if !activity.IsActivity(ctx) {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(keepAliveEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if progress != nil {
					activity.RecordHeartbeat(ctx, progress.Load())
				} else {
					activity.RecordHeartbeat(ctx)
				}
			}
		}
	}()
	return func() { cancel(); <-done }
}

// heartbeat reports progress when running as an activity (tests call the methods
// directly too).
func heartbeat(ctx context.Context, details ...any) {
	if activity.IsActivity(ctx) {
		activity.RecordHeartbeat(ctx, details...)
	}
}
