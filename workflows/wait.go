package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"
)

// awaitOrTimeout waits until cond holds or d passes, and reports whether cond held.
// Unlike workflow.AwaitWithTimeout, it cancels its timer when cond wins, so a loop
// woken often (signals, updates) does not leave a trail of timers that fire later,
// each adding events to the history.
func awaitOrTimeout(ctx workflow.Context, d time.Duration, cond func() bool) (bool, error) {
	timerCtx, cancel := workflow.WithCancel(ctx)
	defer cancel()
	timer := workflow.NewTimer(timerCtx, d)
	if err := workflow.Await(ctx, func() bool { return cond() || timer.IsReady() }); err != nil {
		return false, err
	}
	return cond(), nil
}
