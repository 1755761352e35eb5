package workflows

import (
	"context"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/ekmsync/ekmsync/activities"
	"github.com/ekmsync/ekmsync/internal/channel"
)

// OrderBackfillInput is the input of OrderBackfill: a channel and either a date
// range [From, To) or order ids.
type OrderBackfillInput struct {
	Channel string     `json:"channel"`
	From    *time.Time `json:"from,omitempty"`
	To      *time.Time `json:"to,omitempty"`
	IDs     []int64    `json:"ids,omitempty"`
}

// OrderBackfill re-reads a channel's orders of a date range, or by id, with the
// order sync's rules (channel-semantics.md §2). It is idempotent (orders are
// upserted on their EKM id), runs beside the loop, and never moves the Order
// Sync Date. A channel that is not ok makes it end at once with a result that
// says why, not fail.
func OrderBackfill(ctx workflow.Context, in OrderBackfillInput) (activities.BackfillOrdersResult, error) {
	if in.Channel == "" {
		return activities.BackfillOrdersResult{}, temporal.NewNonRetryableApplicationError("OrderBackfill needs a channel name", activities.ErrTypeBadInput, nil)
	}
	if len(in.IDs) == 0 && (in.From == nil || in.To == nil || !in.From.Before(*in.To)) {
		return activities.BackfillOrdersResult{}, temporal.NewNonRetryableApplicationError(
			"OrderBackfill needs order ids, or a date range whose start is before its end", activities.ErrTypeBadInput, nil)
	}
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 12 * time.Hour,
		HeartbeatTimeout:    20 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 2 * time.Second, BackoffCoefficient: 2,
			MaximumInterval: time.Minute, MaximumAttempts: 10},
	})
	var res activities.BackfillOrdersResult
	err := workflow.ExecuteActivity(ctx, (*activities.Activities).BackfillOrders,
		activities.BackfillOrdersInput{Channel: in.Channel, From: in.From, To: in.To, IDs: in.IDs}).Get(ctx, &res)
	switch {
	case activities.IsType(err, activities.ErrTypeNeedsReauth):
		res.Status.State, res.Status.Reason = channel.StateNeedsReauth, "EKM refused the channel's authorisation: run 'starter channel reauthorise "+in.Channel+"', then back-fill again"
		return res, nil
	case activities.IsType(err, activities.ErrTypeDisabled):
		res.Status.State, res.Status.Reason = channel.StateDisabled, "the channel was disabled during the back-fill: enable it and back-fill again"
		return res, nil
	}
	return res, err
}

// StartOrderBackfill starts a back-fill of the channel, or returns the one that
// runs for the same range or ids.
func (s Starter) StartOrderBackfill(ctx context.Context, in OrderBackfillInput) (client.WorkflowRun, error) {
	what := ""
	if len(in.IDs) > 0 {
		ids := make([]string, len(in.IDs))
		for i, id := range in.IDs {
			ids[i] = fmt.Sprint(id)
		}
		what = "ids:" + strings.Join(ids, ",")
		if len(what) > 200 {
			what = what[:200] + fmt.Sprintf("...(%d ids)", len(in.IDs))
		}
	} else {
		what = in.From.UTC().Format(time.RFC3339) + ".." + in.To.UTC().Format(time.RFC3339)
	}
	opts := s.startOptions(OrderBackfillID(in.Channel, what), in.Channel, "Order back-fill of channel "+in.Channel+": "+what)
	return s.Client.ExecuteWorkflow(ctx, opts, OrderBackfillWorkflow, in)
}

// SyncOrdersNow runs the sync-now Update of the channel's order-sync loop and
// waits for what the sync did.
func (s Starter) SyncOrdersNow(ctx context.Context, channelName string, in SyncNowInput) (activities.SyncOrdersResult, error) {
	h, err := s.Client.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: OrderSyncID(channelName), UpdateName: UpdateSyncNow, Args: []any{in},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err != nil {
		return activities.SyncOrdersResult{}, err
	}
	var res activities.SyncOrdersResult
	err = h.Get(ctx, &res)
	return res, err
}

// OrderSyncStatus queries the status of the channel's order-sync loop.
func (s Starter) OrderSyncStatus(ctx context.Context, channelName string) (OrderSyncStatus, error) {
	var st OrderSyncStatus
	v, err := s.Client.QueryWorkflow(ctx, OrderSyncID(channelName), "", QueryStatus)
	if err != nil {
		return st, err
	}
	err = v.Get(&st)
	return st, err
}
