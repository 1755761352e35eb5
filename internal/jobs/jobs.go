// Package jobs runs the worker's periodic per-channel jobs that are not
// workflows (the drift comparison, the listing refresh): every worker polls, and
// a claim in PostgreSQL makes exactly one of them run each due job; a worker that
// dies holding one leaves it to another once the lease lapses
// (docs/architecture.md).
package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"
)

// Claimed is one kind of job, claimed channel by channel.
type Claimed struct {
	// Name names the job in logs, e.g. "drift".
	Name string
	// Claim claims one due channel for owner until lease has passed; false when
	// none is due.
	Claim func(ctx context.Context, owner string, lease time.Duration) (int64, bool, error)
	// Run runs the claimed channel's job, within the lease, and releases the
	// claim; its failures are its own to record, never stopping the other
	// channels.
	Run func(ctx context.Context, channelID int64)
	// Poll is how often due jobs are looked for (default a minute).
	Poll time.Duration
	// Lease bounds one job's claim (default an hour).
	Lease time.Duration
	// Logger receives a warning when due jobs cannot be looked for; nil discards.
	Logger *slog.Logger
}

// maxPerPass bounds the jobs one pass runs, so that a worker returns to its
// other duties (and other workers take their share).
const maxPerPass = 10

// Loop looks for due jobs until ctx ends.
func (c *Claimed) Loop(ctx context.Context) {
	poll := c.Poll
	if poll <= 0 {
		poll = time.Minute
	}
	for {
		if _, err := c.Pass(ctx); err != nil && ctx.Err() == nil && c.Logger != nil {
			c.Logger.Warn(c.Name+": the scheduled job could not run", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(poll):
		}
	}
}

// Pass runs the jobs due now, one claimed channel at a time, and returns how
// many ran.
func (c *Claimed) Pass(ctx context.Context) (int, error) {
	lease := c.Lease
	if lease <= 0 {
		lease = time.Hour
	}
	host, _ := os.Hostname()
	owner := fmt.Sprintf("%s:%d", host, os.Getpid())
	ran := 0
	for ran < maxPerPass {
		id, ok, err := c.Claim(ctx, owner, lease)
		if err != nil || !ok {
			return ran, err
		}
		ran++
		func() {
			ctx, cancel := context.WithTimeout(ctx, lease)
			defer cancel()
			c.Run(ctx, id)
		}()
	}
	return ran, nil
}
