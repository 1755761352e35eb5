package service

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"go.temporal.io/api/serviceerror"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/flows"
	"github.com/ekmsync/ekmsync/internal/store"
	"github.com/ekmsync/ekmsync/workflows"
)

// supervisePeriod is how often the supervisor looks at every channel's loops: a
// loop that stopped runs again within it.
const supervisePeriod = 30 * time.Second

// supervise keeps every channel's loops running, whatever stopped them (a run
// terminated for its history size, an operator's terminate, a failure, a
// timeout): every supervisePeriod it starts again, and logs, the order sync and
// the push loop of each channel in the hub that do not run, recreates a listing
// Schedule that is gone, and starts again a listing download whose run died
// while the hub says it is in progress.
//
// It is a goroutine of each worker rather than a Temporal Schedule: it reads the
// hub's channels directly (the truth of which channels exist, so a channel added
// while Temporal was unreachable gets its loops too), it needs nothing created per
// channel that could itself be deleted, and it works the moment a worker runs.
// Starts use the workflow ID's USE_EXISTING policy, so several workers doing the
// same never start a loop twice.
func supervise(ctx context.Context, st *store.Store, wf flows.Starter, logger *slog.Logger) {
	t := time.NewTicker(supervisePeriod)
	defer t.Stop()
	for {
		superviseOnce(ctx, st, wf, logger)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// superviseOnce looks at every channel's loops once. It lists the running
// workflows and the Schedules first, one paged call each, and asks Temporal
// about a channel's workflow or Schedule only when it is missing from those
// lists: 500 channels cost a few calls a sweep, not 2,000 (three workflows and a
// Schedule each), which on a loaded server delayed every other task. When a
// list cannot be read, each channel is asked about one by one, as before.
func superviseOnce(ctx context.Context, st *store.Store, wf flows.Starter, logger *slog.Logger) {
	channels, err := st.Channels(ctx)
	if err != nil {
		if ctx.Err() == nil {
			logger.Warn("supervisor: could not read the channels; trying again", "err", err, "retry_in", supervisePeriod.String())
		}
		return
	}
	var seen sweepLists
	if seen.running, err = wf.RunningIDs(ctx); err != nil && ctx.Err() == nil {
		logger.Warn("supervisor: could not list the running workflows; asking about each", "err", err)
	}
	if seen.schedules, err = wf.ScheduleIDs(ctx); err != nil && ctx.Err() == nil {
		logger.Warn("supervisor: could not list the schedules; asking about each", "err", err)
	}
	for _, c := range channels {
		if ctx.Err() != nil {
			return
		}
		superviseChannel(ctx, st, wf, c, seen, logger)
	}
}

// sweepLists are what one sweep listed: the running workflows' IDs and the
// Schedules' IDs (nil when the list could not be read).
type sweepLists struct{ running, schedules map[string]bool }

func superviseChannel(ctx context.Context, st *store.Store, wf flows.Starter, c channel.Settings, seen sweepLists, logger *slog.Logger) {
	loops := []struct {
		id    string
		start func(context.Context, string) (string, error)
	}{
		{workflows.OrderSyncID(c.Name), func(ctx context.Context, n string) (string, error) {
			r, err := wf.StartOrderSync(ctx, n)
			return runID(r), err
		}},
		{workflows.ChannelPushID(c.Name), func(ctx context.Context, n string) (string, error) {
			r, err := wf.StartChannelPush(ctx, n)
			return runID(r), err
		}},
	}
	for _, l := range loops {
		if seen.running[l.id] {
			continue
		}
		restart(ctx, wf, c.Name, l.id, func(flows.RunState) bool { return true }, l.start, logger)
	}
	// A listing download runs only now and then: it is started again only when its
	// run died in the middle of a download the hub still says is in progress.
	if id := workflows.ListingDownloadID(c.Name); !seen.running[id] {
		if ld, err := st.ListingDownload(ctx, c.ID); err == nil && ld.InProgress {
			restart(ctx, wf, c.Name, id, flows.RunState.Died, func(ctx context.Context, n string) (string, error) {
				r, err := wf.StartListingDownload(ctx, n)
				return runID(r), err
			}, logger)
		}
	}
	if seen.schedules[workflows.ListingScheduleID(c.Name)] {
		return
	}
	if _, err := wf.Client.ScheduleClient().GetHandle(ctx, workflows.ListingScheduleID(c.Name)).Describe(ctx); err != nil {
		var notFound *serviceerror.NotFound
		if !errors.As(err, &notFound) {
			return
		}
		if err := wf.EnsureListingSchedule(ctx, c.Name, c.ListingInterval); err != nil {
			logger.Warn("supervisor: could not recreate the listing schedule", "channel", c.Name, "err", err)
			return
		}
		logger.Warn("supervisor: the listing schedule was gone: created again", "channel", c.Name,
			"schedule_id", workflows.ListingScheduleID(c.Name), "every", c.ListingInterval.String())
	}
}

// restart starts the workflow again when its latest run does not run and want
// says so, and logs what it found and did.
func restart(ctx context.Context, wf flows.Starter, name, id string, want func(flows.RunState) bool,
	start func(context.Context, string) (string, error), logger *slog.Logger) {
	r, err := wf.RunState(ctx, id)
	if err != nil {
		if ctx.Err() == nil {
			logger.Warn("supervisor: could not ask Temporal about a loop", "channel", name, "workflow_id", id, "err", err)
		}
		return
	}
	if r.Running || !want(r) {
		return
	}
	newRun, err := start(ctx, name)
	if err != nil {
		logger.Error("supervisor: a loop is not running and could not be started", "channel", name, "workflow_id", id,
			"was", r.Sentence(), "err", err)
		return
	}
	logger.Warn("supervisor: a loop was not running: started again", "channel", name, "workflow_id", id,
		"was", r.Sentence(), "run_id", newRun)
}

func runID(r interface{ GetRunID() string }) string {
	if r == nil {
		return ""
	}
	return r.GetRunID()
}
