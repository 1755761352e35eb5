package observe

import (
	"context"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/interceptor"

	"github.com/ekmsync/ekmsync/activities"
)

// Interceptor counts, from the results of the activities that did the work, the
// orders read and the outbound work sent. It reads results only, so the activities
// need no metrics code; a failed attempt counts nothing, and a retried one that
// resumed from its heartbeat counts what the whole run did, once.
type Interceptor struct {
	interceptor.WorkerInterceptorBase
}

// InterceptActivity implements interceptor.WorkerInterceptor.
func (*Interceptor) InterceptActivity(_ context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	return &activityCounter{ActivityInboundInterceptorBase: interceptor.ActivityInboundInterceptorBase{Next: next}}
}

type activityCounter struct {
	interceptor.ActivityInboundInterceptorBase
}

// sendKinds are the push activities and the kind of work each sends.
var sendKinds = map[string]string{
	"PushDespatches":    "despatch",
	"PushCancellations": "cancellation",
	"PushStock":         "stock",
	"PushPrices":        "price",
}

func (a *activityCounter) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (any, error) {
	out, err := a.Next.ExecuteActivity(ctx, in)
	if err != nil {
		return out, err
	}
	switch r := out.(type) {
	case activities.SyncOrdersResult:
		countOrders(r.Channel, r.Ran, r.OrderCounts)
	case activities.BackfillOrdersResult:
		countOrders(r.Channel, r.Ran, r.OrderCounts)
	case activities.StepResult:
		kind, ok := sendKinds[activity.GetInfo(ctx).ActivityType.Name]
		if !ok || len(in.Args) == 0 {
			break
		}
		if p, ok := in.Args[0].(activities.PushInput); ok {
			countSends(p.Channel, kind, r)
		}
	}
	return out, err
}

// CountOrderFetch counts the orders a fetch run outside an activity read (the
// webhook receiver's own fetch by id), as the interceptor counts an activity's.
func CountOrderFetch(r activities.SyncOrdersResult) { countOrders(r.Channel, r.Ran, r.OrderCounts) }

func countOrders(channel string, ran bool, c activities.OrderCounts) {
	if !ran || channel == "" {
		return
	}
	for outcome, n := range map[string]int{"new": c.New, "updated": c.Updated, "unchanged": c.Unchanged,
		"skipped": c.Skipped, "quarantined": c.Quarantined} {
		orders.WithLabelValues(channel, outcome).Add(float64(max(n, 0)))
	}
}

func countSends(channel, kind string, r activities.StepResult) {
	if channel == "" {
		return
	}
	for result, n := range map[string]int{"sent": r.Sent, "already": r.Already, "not_sent": r.NotSent,
		"held": r.Held, "failed": r.Failed} {
		sends.WithLabelValues(channel, kind, result).Add(float64(max(n, 0)))
	}
}
