// Package flows is the operator side of ekmsync's workflows: starting them,
// steering them (wake-ups, the sync-now Update, queries), stopping them and
// their Schedule, and reading how their runs stand. The starter CLI, the worker's
// webhook receiver, change listener and supervisor, and the tests use it; the
// workflows themselves never do.
package flows

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ekmsync/ekmsync/internal/contract"
	"github.com/ekmsync/ekmsync/workflows"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
)

// Starter starts and steers ekmsync's workflows from outside (the starter CLI, the
// worker's webhook receiver and change listener, tests).
type Starter struct {
	// Client is the Temporal client to start, signal and query through.
	Client client.Client
	// TaskQueue is where the workflows run; empty means workflows.TaskQueue ("ekmsync").
	TaskQueue string
}

func (s Starter) taskQueue() string {
	if s.TaskQueue == "" {
		return workflows.TaskQueue
	}
	return s.TaskQueue
}

// startOptions are the options of a per-channel workflow: its readable ID, and
// USE_EXISTING so that starting one that runs returns the running one.
func (s Starter) startOptions(id, channel, summary string) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{
		ID:                       id,
		TaskQueue:                s.taskQueue(),
		WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enums.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		TypedSearchAttributes:    workflows.InitialAttributes(channel),
		StaticSummary:            summary,
	}
}

// StartOrderSync starts the channel's order-sync loop, or returns the running one.
func (s Starter) StartOrderSync(ctx context.Context, channel string) (client.WorkflowRun, error) {
	return s.Client.ExecuteWorkflow(ctx, s.startOptions(workflows.OrderSyncID(channel), channel, "Order sync loop of channel "+channel),
		workflows.OrderSyncWorkflow, workflows.ChannelInput{Channel: channel})
}

// StartChannelPush starts the channel's outbound push loop, or returns the running one.
func (s Starter) StartChannelPush(ctx context.Context, channel string) (client.WorkflowRun, error) {
	return s.Client.ExecuteWorkflow(ctx, s.startOptions(workflows.ChannelPushID(channel), channel, "Outbound push loop of channel "+channel),
		workflows.ChannelPushWorkflow, workflows.ChannelInput{Channel: channel})
}

// StartListingDownload starts a listing download of the channel, or returns the one
// that runs.
func (s Starter) StartListingDownload(ctx context.Context, channel string) (client.WorkflowRun, error) {
	return s.Client.ExecuteWorkflow(ctx, s.startOptions(workflows.ListingDownloadID(channel), channel, "Listing download of channel "+channel),
		workflows.ListingDownloadWorkflow, workflows.ChannelInput{Channel: channel})
}

// EnsureListingSchedule creates the channel's listing-download Schedule, or updates
// its interval. Overlapping runs are skipped.
func (s Starter) EnsureListingSchedule(ctx context.Context, channel string, every time.Duration) error {
	c := s.Client
	spec := client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: every}}}
	h := c.ScheduleClient().GetHandle(ctx, workflows.ListingScheduleID(channel))
	_, err := h.Describe(ctx)
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		_, err = c.ScheduleClient().Create(ctx, client.ScheduleOptions{
			ID:      workflows.ListingScheduleID(channel),
			Spec:    spec,
			Overlap: enums.SCHEDULE_OVERLAP_POLICY_SKIP,
			Action: &client.ScheduleWorkflowAction{
				ID:                    workflows.ListingScheduleID(channel),
				Workflow:              workflows.ScheduledListingDownloadWorkflow,
				Args:                  []any{workflows.ChannelInput{Channel: channel}},
				TaskQueue:             s.taskQueue(),
				TypedSearchAttributes: workflows.InitialAttributes(channel),
			},
			Note: fmt.Sprintf("Listing download of channel %s every %s", channel, every),
		})
		return err
	}
	if err != nil {
		return err
	}
	return h.Update(ctx, client.ScheduleUpdateOptions{DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
		in.Description.Schedule.Spec = &spec
		return &client.ScheduleUpdate{Schedule: &in.Description.Schedule}, nil
	}})
}

// WakeChannel signals the channel's workflows to re-read the channel and act now,
// after a change of its settings or consent. A workflow that does not run is not an
// error.
func (s Starter) WakeChannel(ctx context.Context, channel string) error {
	// A listing download waiting for reauthorisation resumes at once too; a running
	// one drains the signal at its next slice.
	return s.wake(ctx, workflows.OrderSyncID(channel), workflows.ChannelPushID(channel), workflows.ListingDownloadID(channel))
}

// WakePush signals only the channel's push loop: for hub changes (orders, parcels,
// stock, prices), which concern nothing else, so the order sync's history does not
// grow with every stock change.
func (s Starter) WakePush(ctx context.Context, channel string) error {
	return s.wake(ctx, workflows.ChannelPushID(channel))
}

func (s Starter) wake(ctx context.Context, ids ...string) error {
	c := s.Client
	var errs []error
	for _, id := range ids {
		err := c.SignalWorkflow(ctx, id, "", workflows.SignalWake, nil)
		var notFound *serviceerror.NotFound
		if err != nil && !errors.As(err, &notFound) {
			errs = append(errs, fmt.Errorf("wake %s: %w", id, err))
		}
	}
	return errors.Join(errs...)
}

// StopChannel terminates the channel's workflows (its loops, its listing download
// and its running back-fills) and deletes its Schedule, for 'channel remove'. What
// does not exist is not an error.
func (s Starter) StopChannel(ctx context.Context, channel string) error {
	c := s.Client
	var errs []error
	var notFound *serviceerror.NotFound
	ids := []string{workflows.OrderSyncID(channel), workflows.ChannelPushID(channel), workflows.ListingDownloadID(channel)}
	// Back-fills have IDs of their own: find the channel's running ones.
	running, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
		Query: fmt.Sprintf(`WorkflowType = %q AND EkmChannel = %q AND ExecutionStatus = "Running"`, workflows.OrderBackfillWorkflow, channel)})
	if err != nil {
		errs = append(errs, fmt.Errorf("list back-fills: %w", err))
	} else {
		for _, e := range running.GetExecutions() {
			ids = append(ids, e.GetExecution().GetWorkflowId())
		}
	}
	for _, id := range ids {
		if err := c.TerminateWorkflow(ctx, id, "", "channel removed"); err != nil && !errors.As(err, &notFound) {
			errs = append(errs, fmt.Errorf("terminate %s: %w", id, err))
		}
	}
	if err := c.ScheduleClient().GetHandle(ctx, workflows.ListingScheduleID(channel)).Delete(ctx); err != nil && !errors.As(err, &notFound) {
		errs = append(errs, fmt.Errorf("delete schedule: %w", err))
	}
	return errors.Join(errs...)
}

// StartOrderBackfill starts a back-fill of the channel, or returns the one that
// runs for the same range or ids.
func (s Starter) StartOrderBackfill(ctx context.Context, in workflows.OrderBackfillInput) (client.WorkflowRun, error) {
	what := ""
	if len(in.IDs) > 0 {
		ids := make([]string, len(in.IDs))
		for i, id := range in.IDs {
			ids[i] = fmt.Sprint(id)
		}
		what = "ids:" + strings.Join(ids, ",")
		if len(what) > 200 {
			// A long list is named by its hash: two lists that share their first ids
			// must not share a workflow ID (USE_EXISTING would return the other's run).
			sum := sha256.Sum256([]byte(what))
			what = fmt.Sprintf("ids:%d:%x", len(in.IDs), sum[:8])
		}
	} else {
		what = in.From.UTC().Format(time.RFC3339) + ".." + in.To.UTC().Format(time.RFC3339)
	}
	opts := s.startOptions(workflows.OrderBackfillID(in.Channel, what), in.Channel, "Order back-fill of channel "+in.Channel+": "+what)
	return s.Client.ExecuteWorkflow(ctx, opts, workflows.OrderBackfillWorkflow, in)
}

// SyncOrdersNow runs the sync-now Update of the channel's order-sync loop and
// waits for what the sync did.
func (s Starter) SyncOrdersNow(ctx context.Context, channelName string, in workflows.SyncNowInput) (contract.SyncOrdersResult, error) {
	h, err := s.Client.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: workflows.OrderSyncID(channelName), UpdateName: workflows.UpdateSyncNow, Args: []any{in},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err != nil {
		return contract.SyncOrdersResult{}, err
	}
	var res contract.SyncOrdersResult
	err = h.Get(ctx, &res)
	return res, err
}

// OrderSyncStatus queries the status of the channel's order-sync loop.
func (s Starter) OrderSyncStatus(ctx context.Context, channelName string) (contract.OrderSyncState, error) {
	var st contract.OrderSyncState
	v, err := s.Client.QueryWorkflow(ctx, workflows.OrderSyncID(channelName), "", workflows.QueryStatus)
	if err != nil {
		return st, err
	}
	err = v.Get(&st)
	return st, err
}
