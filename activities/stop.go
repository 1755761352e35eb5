package activities

import (
	"context"
	"errors"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
)

// errWorkerStopping is the cause of an activity context cancelled by its worker's stop.
var errWorkerStopping = errors.New("the worker is stopping")

// StopInterceptor makes every activity stop when its worker does. Without it, a
// running activity (a push waiting for EKM's rate budget, a listing download)
// would keep the worker for its whole stop timeout (EKMSYNC_WORKER_STOP_TIMEOUT),
// heartbeating all the while: Ctrl-C on 'make dev' and a rolling restart would
// take that long. With it, the activity's context is cancelled as soon as the
// worker's stop channel closes; whatever the activity committed stays (writes and
// cursors are committed as they go), what is in flight is rolled back or recorded
// under a context of its own, and the activity fails with a retryable
// ErrTypeWorkerStopping error that the next worker picks up. Register it with
// worker.Options.Interceptors (as a pointer).
type StopInterceptor struct {
	interceptor.WorkerInterceptorBase
}

// InterceptActivity wraps each activity's execution.
func (*StopInterceptor) InterceptActivity(ctx context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	i := &stopInbound{}
	i.Next = next
	return i
}

type stopInbound struct {
	interceptor.ActivityInboundInterceptorBase
}

// ExecuteActivity runs the activity under a context that the worker's stop cancels.
func (i *stopInbound) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (any, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stopping := activity.GetWorkerStopChannel(ctx)
	go func() {
		select {
		case <-stopping:
			cancel(errWorkerStopping)
		case <-ctx.Done():
		}
	}()
	res, err := i.Next.ExecuteActivity(ctx, in)
	if err != nil && errors.Is(context.Cause(ctx), errWorkerStopping) {
		return nil, temporal.NewApplicationErrorWithCause(errWorkerStopping.Error()+": the activity is retried on a running worker", ErrTypeWorkerStopping, err)
	}
	return res, err
}
