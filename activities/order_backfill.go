package activities

import (
	"context"
	"slices"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/order"
)

// BackfillOrders re-reads a date range or a list of orders with the same rules
// as the sync, idempotently, without moving the Order Sync Date. It heartbeats
// and resumes from the last committed page.
func (a *Activities) BackfillOrders(ctx context.Context, in BackfillOrdersInput) (res BackfillOrdersResult, err error) {
	if len(in.IDs) == 0 && (in.From == nil || in.To == nil || !in.From.Before(*in.To)) {
		return res, temporal.NewNonRetryableApplicationError("a back-fill needs ids, or a date range with from before to", ErrTypeBadInput, nil)
	}
	now := a.now()
	s, err := a.settings(ctx, in.Channel)
	if err != nil {
		return res, err
	}
	res = BackfillOrdersResult{Channel: s.Name, Status: s.Status(), StartedAt: now}
	if res.Status.State != channel.StateOK {
		res.FinishedAt = a.now()
		return res, nil
	}
	defer func() { err = a.orderFailure(ctx, s, "orders backfill", err) }()
	run, ctx, err := a.newOrderRun(ctx, s, now, &res.OrderCounts)
	if err != nil {
		return res, err
	}
	res.Ran = true
	if len(in.IDs) > 0 {
		ids := without(in.IDs, nil)
		found, err := run.byID(ctx, ids)
		if err != nil {
			return res, err
		}
		for _, id := range ids {
			if !slices.Contains(found, id) {
				res.Missing = append(res.Missing, id)
			}
		}
	} else {
		var progress syncProgress
		if activity.IsActivity(ctx) && activity.HasHeartbeatDetails(ctx) {
			_ = activity.GetHeartbeatDetails(ctx, &progress)
			res.OrderCounts = progress.Counts
		}
		if _, _, err := run.walk(ctx, order.RangeFilter(*in.From, *in.To), progress, false); err != nil {
			return res, err
		}
	}
	res.FinishedAt = a.now()
	return res, nil
}

// OrderSyncConfig reads the channel's state and order-sync interval from the hub,
// without calling EKM: the loop reads it when woken and while idle.
func (a *Activities) OrderSyncConfig(ctx context.Context, name string) (OrderLoopConfig, error) {
	s, err := a.settings(ctx, name)
	if err != nil {
		return OrderLoopConfig{}, err
	}
	return OrderLoopConfig{Status: s.Status(), Interval: s.OrderSyncInterval}, nil
}
