package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/ekmsync/ekmsync/activities"
	"github.com/ekmsync/ekmsync/internal/channel"
)

// OrderBackfillInput is the input of OrderBackfill: a channel and either a date
// range [From, To) or order ids. The workflow hands it to the activity as is.
type OrderBackfillInput = activities.BackfillOrdersInput

// OrderBackfill re-reads a channel's orders of a date range, or by id, with the
// order sync's rules (docs/channel-semantics.md §2). It is idempotent (orders are
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
	err := workflow.ExecuteActivity(ctx, (*activities.Activities).BackfillOrders, in).Get(ctx, &res)
	switch {
	case activities.IsType(err, activities.ErrTypeChannelGone):
		res.Status.Reason = "the channel was removed during the back-fill"
		return res, nil
	case activities.IsType(err, activities.ErrTypeNeedsReauth):
		res.Status.State, res.Status.Reason = channel.StateNeedsReauth, "EKM refused the channel's authorisation: run 'starter channel reauthorise "+in.Channel+"', then back-fill again"
		return res, nil
	case activities.IsType(err, activities.ErrTypeDisabled):
		res.Status.State, res.Status.Reason = channel.StateDisabled, "the channel was disabled during the back-fill: enable it and back-fill again"
		return res, nil
	}
	return res, err
}
