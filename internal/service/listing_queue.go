package service

import (
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/workflow"

	"github.com/ekmsync/ekmsync/workflows"
)

// The listing download's activities run on a task queue of their own, served by
// a second SDK worker in the same process with a bounded number of activity
// slots (EKMSYNC_LISTING_SLOTS). A listing download is the one long, heavy piece
// of work (a slice of pages holds its slot for seconds, mostly waiting for the
// shop's budget); on one queue, 500 channels downloading at once would take
// every activity slot of a worker, and an order sync or a despatch of any
// channel would wait for a slot behind them. On their own queue they cannot:
// the order sync, the push and the back-fill keep the main queue's slots to
// themselves, however many downloads run (docs/architecture.md, "Many shops").

// defaultListingSlots is EKMSYNC_LISTING_SLOTS's default, for a config.Worker
// built in code (the tests' in-process workers) that leaves it zero.
const defaultListingSlots = 200

// ListingQueue is the task queue of the listing download's activities, beside
// taskQueue (the workflows' and every other activity's).
func ListingQueue(taskQueue string) string { return taskQueue + "-listings" }

// listingRouter sends every activity a ListingDownload workflow schedules to the
// listing queue. It is a worker interceptor, not an option in the workflow's
// code, so that the workflows stay as they are; the activity's task queue is not
// part of what a replay compares (the SDK matches an activity's ID and type), so
// histories recorded before the split replay unchanged, and an activity they
// scheduled on the main queue is still served there (the main worker registers
// every activity).
type listingRouter struct {
	interceptor.WorkerInterceptorBase
	queue string
}

// InterceptWorkflow wraps the outbound calls of ListingDownload runs only.
func (r *listingRouter) InterceptWorkflow(ctx workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	if workflow.GetInfo(ctx).WorkflowType.Name != workflows.ListingDownloadWorkflow {
		return next
	}
	return &listingInbound{WorkflowInboundInterceptorBase: interceptor.WorkflowInboundInterceptorBase{Next: next}, queue: r.queue}
}

type listingInbound struct {
	interceptor.WorkflowInboundInterceptorBase
	queue string
}

func (i *listingInbound) Init(outbound interceptor.WorkflowOutboundInterceptor) error {
	return i.Next.Init(&listingOutbound{WorkflowOutboundInterceptorBase: interceptor.WorkflowOutboundInterceptorBase{Next: outbound}, queue: i.queue})
}

type listingOutbound struct {
	interceptor.WorkflowOutboundInterceptorBase
	queue string
}

// ExecuteActivity schedules the activity on the listing queue, unless the
// workflow named a task queue of its own for it.
func (o *listingOutbound) ExecuteActivity(ctx workflow.Context, activityType string, args ...any) workflow.Future {
	if q := workflow.GetActivityOptions(ctx).TaskQueue; q == "" || q == workflow.GetInfo(ctx).TaskQueueName {
		ctx = workflow.WithTaskQueue(ctx, o.queue)
	}
	return o.Next.ExecuteActivity(ctx, activityType, args...)
}
