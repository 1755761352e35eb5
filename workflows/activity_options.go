package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// The activity options of every workflow, in one style: each kind of step has
// one documented set here, and a workflow runs the step with execute (or, for a
// step it may have to stop, with workflow.WithActivityOptions and the same set).

// execute runs the activity name with the options o and returns its result.
func execute[Out any](ctx workflow.Context, o workflow.ActivityOptions, name string, in any) (Out, error) {
	var out Out
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, o), name, in).Get(ctx, &out)
	return out, err
}

// The order sync's steps.
var (
	// orderConfigOptions: reading the channel's state and interval from the hub.
	orderConfigOptions = workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: 30 * time.Second, MaximumAttempts: 5},
	}
	// orderSyncOptions: a sync. The activity heartbeats on every request and
	// page, so a lost worker is detected within the heartbeat timeout; the
	// retries resume from the last committed page and stay frequent, since a
	// crash is no reason to slow down. A sync stopped for the history's sake has
	// ended before the loop goes on, so that two syncs of the channel never run
	// at once.
	orderSyncOptions = workflow.ActivityOptions{
		StartToCloseTimeout: 2 * time.Hour,
		HeartbeatTimeout:    10 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2,
			MaximumInterval: 15 * time.Second, MaximumAttempts: 10},
		WaitForCancellation: true,
	}
	// orderHintOptions: a fetch of the webhook hints alone, by id, run as a
	// local activity in the workflow task that took the hint in (from the
	// version orderHintsLocal on). It is a few EKM requests at order priority,
	// and a local activity spares the order two round trips through the
	// Temporal server, the activity task's dispatch and the workflow task its
	// completion schedules, which the many-shops benchmark found were most of a
	// webhook's time to the hub while 500 loops kept the server busy. A failed
	// fetch is not retried for long: the window sync reads those orders anyway.
	orderHintOptions = workflow.LocalActivityOptions{
		ScheduleToCloseTimeout: time.Minute,
		StartToCloseTimeout:    20 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2,
			MaximumInterval: 10 * time.Second, MaximumAttempts: 3},
	}
	// orderBackfillOptions: a back-fill, which may read a long range.
	orderBackfillOptions = workflow.ActivityOptions{
		StartToCloseTimeout: 12 * time.Hour,
		HeartbeatTimeout:    20 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 2 * time.Second, BackoffCoefficient: 2,
			MaximumInterval: time.Minute, MaximumAttempts: 10},
	}
)

// The push loop's steps.
var (
	// pushCheckOptions: the check of the channel before a pass (hub only), in
	// histories recorded before pushCheckLocal.
	pushCheckOptions = workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: 10 * time.Second, MaximumAttempts: 5},
	}
	// pushCheckLocalOptions: the check as a local activity, a few hub queries.
	// Its retries stay within a minute: a hub that cannot be read makes the
	// loop wait fallbackWait and check again, as it did with the activity.
	pushCheckLocalOptions = workflow.LocalActivityOptions{
		ScheduleToCloseTimeout: time.Minute,
		StartToCloseTimeout:    30 * time.Second,
		RetryPolicy:            &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: 10 * time.Second, MaximumAttempts: 5},
	}
	// pushStepOptions: a step of a pass. Each call starts no new send after its
	// batch bound (seconds), but one slow answer may take a while: the
	// heartbeat, sent throughout, is what detects a lost worker.
	pushStepOptions = workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Minute,
		HeartbeatTimeout:    10 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2,
			MaximumInterval: 30 * time.Second, MaximumAttempts: 5},
	}
)

// The listing download's steps.
var (
	// listingShortOptions: the quick hub-only steps (begin, end, the channel's status).
	listingShortOptions = workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: 30 * time.Second},
	}
	// listingPagesOptions: a slice of pages, or the check of unseen products. A
	// heartbeat every few seconds, so that a killed worker's slice is retried
	// elsewhere within listingHeartbeat; room for the slice, a wait for budget
	// and a slow last page; retried until it works (a disabled channel or
	// rejected consent stops it without retries).
	listingPagesOptions = workflow.ActivityOptions{
		StartToCloseTimeout: 3 * time.Minute,
		HeartbeatTimeout:    listingHeartbeat,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: time.Minute},
	}
	// listingFinishOptions: the finish, which updates every listing of the channel.
	listingFinishOptions = workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: time.Minute},
	}
)
