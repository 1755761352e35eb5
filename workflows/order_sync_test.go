package workflows

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/ekmsync/ekmsync/activities"
	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/contract"
)

var acts *activities.Activities

func newOrderEnv(t *testing.T) *testsuite.TestWorkflowEnvironment {
	var s testsuite.WorkflowTestSuite
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.DiscardHandler)))
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(OrderSync, workflow.RegisterOptions{Name: OrderSyncWorkflow})
	env.RegisterActivity(acts.SyncOrders)
	env.RegisterActivity(acts.OrderSyncConfig)
	env.SetTestTimeout(30 * time.Second)
	return env
}

var okStatus = channel.Status{State: channel.StateOK}

// channelOK makes the hub report the channel ok, syncing every 5 minutes.
func channelOK(env *testsuite.TestWorkflowEnvironment) {
	env.OnActivity(acts.OrderSyncConfig, mock.Anything, "shop").Return(activities.OrderLoopConfig{Status: okStatus, Interval: 5 * time.Minute}, nil)
}

// slowSyncThenHints mocks an ok channel whose window syncs take two minutes
// each and find nothing, and whose hint fetches call hints and find every hint.
func slowSyncThenHints(env *testsuite.TestWorkflowEnvironment, hints func(activities.SyncOrdersInput)) {
	channelOK(env)
	env.OnActivity(acts.SyncOrders, mock.Anything, mock.MatchedBy(func(in activities.SyncOrdersInput) bool { return !in.HintsOnly })).
		Return(func(_ context.Context, in activities.SyncOrdersInput) (activities.SyncOrdersResult, error) {
			return okResult(in, 0), nil
		}).After(2 * time.Minute)
	env.OnActivity(acts.SyncOrders, mock.Anything, mock.MatchedBy(func(in activities.SyncOrdersInput) bool { return in.HintsOnly })).
		Return(func(_ context.Context, in activities.SyncOrdersInput) (activities.SyncOrdersResult, error) {
			hints(in)
			return okResult(in, len(in.Hints)), nil
		})
}

func okResult(in activities.SyncOrdersInput, n int) activities.SyncOrdersResult {
	return activities.SyncOrdersResult{Channel: in.Channel, Status: okStatus, Ran: true, Interval: 5 * time.Minute,
		OrderCounts: activities.OrderCounts{New: n}}
}

func queryStatus(t *testing.T, env *testsuite.TestWorkflowEnvironment) contract.OrderSyncState {
	t.Helper()
	v, err := env.QueryWorkflow(QueryStatus)
	if err != nil {
		t.Fatal(err)
	}
	var st contract.OrderSyncState
	if err := v.Get(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

// updateCallbacks records an Update's outcome.
type updateCallbacks struct {
	rejected error
	result   activities.SyncOrdersResult
	err      error
	done     bool
}

func (u *updateCallbacks) Accept()          {}
func (u *updateCallbacks) Reject(err error) { u.rejected = err }
func (u *updateCallbacks) Complete(v any, err error) {
	u.done, u.err = true, err
	if r, ok := v.(activities.SyncOrdersResult); ok {
		u.result = r
	}
}

func TestOrderSyncIdlesWhileDisabledAndResumesOnWake(t *testing.T) {
	env := newOrderEnv(t)
	var enabled atomic.Bool
	var syncs atomic.Int32
	env.OnActivity(acts.OrderSyncConfig, mock.Anything, "shop").Return(func(_ context.Context, _ string) (activities.OrderLoopConfig, error) {
		if enabled.Load() {
			return activities.OrderLoopConfig{Status: okStatus, Interval: 5 * time.Minute}, nil
		}
		return activities.OrderLoopConfig{Status: channel.Status{State: channel.StateDisabled, Reason: "channel is disabled"}, Interval: 5 * time.Minute}, nil
	})
	env.OnActivity(acts.SyncOrders, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.SyncOrdersInput) (activities.SyncOrdersResult, error) {
		syncs.Add(1)
		return okResult(in, 1), nil
	})
	env.RegisterDelayedCallback(func() {
		st := queryStatus(t, env)
		if st.State != channel.StateDisabled || st.Phase != contract.PhaseIdle || st.Reason == "" || syncs.Load() != 0 {
			t.Errorf("while disabled: %+v, %d syncs", st, syncs.Load())
		}
		enabled.Store(true)
		env.SignalWorkflow(SignalWake, nil)
	}, time.Minute)
	env.RegisterDelayedCallback(func() {
		st := queryStatus(t, env)
		if st.State != channel.StateOK || syncs.Load() != 1 || st.LastRunAt == nil || st.Totals.New != 1 {
			t.Errorf("after the wake: %+v, %d syncs", st, syncs.Load())
		}
		env.CancelWorkflow()
	}, time.Minute+time.Second)
	env.ExecuteWorkflow(OrderSync, contract.OrderSyncState{Channel: "shop"})
	if !env.IsWorkflowCompleted() {
		t.Fatal("workflow did not complete")
	}
}

func TestOrderSyncRunsEveryIntervalAndOnSyncNow(t *testing.T) {
	env := newOrderEnv(t)
	var syncs atomic.Int32
	channelOK(env)
	env.OnActivity(acts.SyncOrders, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.SyncOrdersInput) (activities.SyncOrdersResult, error) {
		n := syncs.Add(1)
		return okResult(in, int(n)), nil
	})
	// At start, then at 5 and 10 minutes: 3 syncs by 11 minutes.
	env.RegisterDelayedCallback(func() {
		if n := syncs.Load(); n != 3 {
			t.Errorf("%d syncs by 11 minutes, want 3", n)
		}
		bad := &updateCallbacks{}
		env.UpdateWorkflow(UpdateSyncNow, "1", bad, SyncNowInput{OrderIDs: []int64{-1}})
		u := &updateCallbacks{}
		env.UpdateWorkflow(UpdateSyncNow, "2", u, SyncNowInput{OrderIDs: []int64{42}})
		env.RegisterDelayedCallback(func() {
			if bad.rejected == nil || bad.done {
				t.Errorf("a negative order id was not rejected: %+v", bad)
			}
			if !u.done || u.err != nil || u.result.New != 4 {
				t.Errorf("sync-now: done %v, err %v, result %+v", u.done, u.err, u.result)
			}
			env.CancelWorkflow()
		}, time.Second)
	}, 11*time.Minute)
	env.ExecuteWorkflow(OrderSync, contract.OrderSyncState{Channel: "shop"})
	if syncs.Load() != 4 {
		t.Fatalf("%d syncs, want 4", syncs.Load())
	}
}

func TestOrderSyncFetchesHintsByIDOncePending(t *testing.T) {
	env := newOrderEnv(t)
	var hintRuns []activities.SyncOrdersInput
	// The first sync takes two minutes: the webhooks arrive meanwhile.
	slowSyncThenHints(env, func(in activities.SyncOrdersInput) { hintRuns = append(hintRuns, in) })
	// The fetch of hints alone runs as a local activity, in the workflow task
	// that took the signals in; the window sync stays an activity.
	var local []bool
	env.SetOnLocalActivityStartedListener(func(_ *activity.Info, _ context.Context, args []any) {
		local = append(local, args[0].(activities.SyncOrdersInput).HintsOnly)
	})
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(SignalOrderHint, OrderHint{OrderID: 7})
		env.SignalWorkflow(SignalOrderHint, OrderHint{OrderID: 7}) // duplicate webhook
		env.SignalWorkflow(SignalOrderHint, OrderHint{OrderID: 8})
	}, time.Minute)
	env.RegisterDelayedCallback(func() {
		st := queryStatus(t, env)
		if st.Totals.HintFetches != 1 || st.PendingHints() != 0 || st.Totals.Syncs != 1 {
			t.Errorf("status after the hints: %+v", st)
		}
		env.CancelWorkflow()
	}, 3*time.Minute)
	env.ExecuteWorkflow(OrderSync, contract.OrderSyncState{Channel: "shop"})
	if len(hintRuns) != 1 || len(hintRuns[0].Hints) != 2 || hintRuns[0].Hints[0] != 7 || hintRuns[0].Hints[1] != 8 {
		t.Fatalf("hint runs = %+v", hintRuns)
	}
	if len(local) != 1 || !local[0] {
		t.Fatalf("local activities (hints only?) = %v, want the one hint fetch", local)
	}
}

// Many hints are fetched a few at a time, one local fetch after another, so
// that each stays short.
func TestOrderSyncFetchesManyHintsInShortLocalFetches(t *testing.T) {
	env := newOrderEnv(t)
	var sizes []int
	slowSyncThenHints(env, func(in activities.SyncOrdersInput) { sizes = append(sizes, len(in.Hints)) })
	env.RegisterDelayedCallback(func() {
		for id := range int64(25) {
			env.SignalWorkflow(SignalOrderHint, OrderHint{OrderID: 100 + id})
		}
	}, time.Minute)
	env.RegisterDelayedCallback(func() {
		if st := queryStatus(t, env); st.PendingHints() != 0 {
			t.Errorf("%d hints still pending", st.PendingHints())
		}
		env.CancelWorkflow()
	}, 3*time.Minute)
	env.ExecuteWorkflow(OrderSync, contract.OrderSyncState{Channel: "shop"})
	if len(sizes) != 3 || sizes[0] != 10 || sizes[1] != 10 || sizes[2] != 5 {
		t.Fatalf("hint fetches of %v orders, want 10, 10 and 5", sizes)
	}
}

func TestOrderSyncIdlesOnNeedsReauthWithoutFailing(t *testing.T) {
	env := newOrderEnv(t)
	var authorised atomic.Bool
	var syncs atomic.Int32
	authorised.Store(true)
	env.OnActivity(acts.OrderSyncConfig, mock.Anything, "shop").Return(func(_ context.Context, _ string) (activities.OrderLoopConfig, error) {
		if authorised.Load() {
			return activities.OrderLoopConfig{Status: okStatus, Interval: 5 * time.Minute}, nil
		}
		return activities.OrderLoopConfig{Status: channel.Status{State: channel.StateNeedsReauth, Reason: "reauthorise"}, Interval: 5 * time.Minute}, nil
	})
	env.OnActivity(acts.SyncOrders, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.SyncOrdersInput) (activities.SyncOrdersResult, error) {
		n := syncs.Add(1)
		if n == 2 {
			authorised.Store(false)
			return activities.SyncOrdersResult{}, temporal.NewNonRetryableApplicationError("invalid_grant", activities.ErrTypeNeedsReauth, errors.New("invalid_grant"))
		}
		return okResult(in, 1), nil
	})
	env.RegisterDelayedCallback(func() {
		st := queryStatus(t, env)
		if st.State != channel.StateNeedsReauth || st.Phase != contract.PhaseIdle || syncs.Load() != 2 {
			t.Errorf("after the refusal: %+v, %d syncs", st, syncs.Load())
		}
		authorised.Store(true) // reauthorised; no wake arrives: the idle poll notices
	}, 10*time.Minute)
	env.RegisterDelayedCallback(func() {
		st := queryStatus(t, env)
		if st.State != channel.StateOK || syncs.Load() != 3 {
			t.Errorf("after the reauthorisation: %+v, %d syncs", st, syncs.Load())
		}
		env.CancelWorkflow()
	}, 10*time.Minute+idlePoll+time.Second)
	env.ExecuteWorkflow(OrderSync, contract.OrderSyncState{Channel: "shop"})
	if err := env.GetWorkflowError(); err != nil && !temporal.IsCanceledError(err) {
		t.Fatalf("workflow failed: %v", err)
	}
}

func TestOrderSyncContinuesAsNewCarryingHints(t *testing.T) {
	env := newOrderEnv(t)
	env.SetTestTimeout(2 * time.Minute)
	env.OnActivity(acts.OrderSyncConfig, mock.Anything, "shop").Return(
		activities.OrderLoopConfig{Status: channel.Status{State: channel.StateDisabled, Reason: "disabled"}, Interval: 5 * time.Minute}, nil)
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(SignalOrderHint, OrderHint{OrderID: 11})
		env.SignalWorkflow(SignalOrderHint, OrderHint{OrderID: 12})
	}, time.Minute)
	env.ExecuteWorkflow(OrderSync, contract.OrderSyncState{Channel: "shop", Totals: contract.OrderSyncTotals{New: 5}})
	var can *workflow.ContinueAsNewError
	if !errors.As(env.GetWorkflowError(), &can) {
		t.Fatalf("workflow ended with %v, want continue-as-new", env.GetWorkflowError())
	}
	var next contract.OrderSyncState
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &next); err != nil {
		t.Fatal(err)
	}
	if next.Channel != "shop" || len(next.Hints) != 2 || next.Hints[0] != 11 || next.Hints[1] != 12 ||
		next.Totals.New != 5 || next.Totals.Continuances != 1 || next.State != channel.StateDisabled {
		t.Fatalf("next run's state = %+v", next)
	}
}

func TestOrderSyncNowDuringASyncWaitsForTheNextOne(t *testing.T) {
	env := newOrderEnv(t)
	var syncs atomic.Int32
	channelOK(env)
	env.OnActivity(acts.SyncOrders, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.SyncOrdersInput) (activities.SyncOrdersResult, error) {
		n := syncs.Add(1)
		return okResult(in, int(n)), nil
	}).After(time.Minute) // each sync takes a minute
	u := &updateCallbacks{}
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(UpdateSyncNow, "now", u, SyncNowInput{}) // while the first sync runs
	}, 30*time.Second)
	env.RegisterDelayedCallback(func() {
		if !u.done || u.err != nil || u.result.New != 2 {
			t.Errorf("sync-now answered %+v (err %v, done %v), want the second sync's result", u.result, u.err, u.done)
		}
		env.CancelWorkflow()
	}, 3*time.Minute)
	env.ExecuteWorkflow(OrderSync, contract.OrderSyncState{Channel: "shop"})
	// The request was answered by a sync started after it, not by the one it arrived in.
	if syncs.Load() != 2 {
		t.Fatalf("%d syncs, want 2", syncs.Load())
	}
}

func TestOrderSyncDropsHintsEKMRejectsInsteadOfLooping(t *testing.T) {
	env := newOrderEnv(t)
	var hintRuns atomic.Int32
	channelOK(env)
	env.OnActivity(acts.SyncOrders, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.SyncOrdersInput) (activities.SyncOrdersResult, error) {
		if in.HintsOnly {
			hintRuns.Add(1)
			return activities.SyncOrdersResult{}, temporal.NewNonRetryableApplicationError("400 Invalid search expression", activities.ErrTypeRejected, nil)
		}
		return okResult(in, 0), nil
	})
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(SignalOrderHint, OrderHint{OrderID: 3}) }, time.Minute)
	env.RegisterDelayedCallback(func() {
		st := queryStatus(t, env)
		if st.PendingHints() != 0 || st.LastError == "" || st.Totals.Failures != 1 {
			t.Errorf("after the rejected fetch: %+v", st)
		}
		env.CancelWorkflow()
	}, 4*time.Minute)
	env.ExecuteWorkflow(OrderSync, contract.OrderSyncState{Channel: "shop"})
	if n := hintRuns.Load(); n != 1 {
		t.Fatalf("%d fetches of the rejected hint, want 1", n)
	}
}

func TestOrderSyncKeepsHintsAfterAFailedSyncForTheFetch(t *testing.T) {
	env := newOrderEnv(t)
	var syncs atomic.Int32
	var hintRuns []activities.SyncOrdersInput
	channelOK(env)
	env.OnActivity(acts.SyncOrders, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.SyncOrdersInput) (activities.SyncOrdersResult, error) {
		if in.HintsOnly {
			hintRuns = append(hintRuns, in)
			return okResult(in, len(in.Hints)), nil
		}
		if syncs.Add(1) == 2 {
			return activities.SyncOrdersResult{}, temporal.NewNonRetryableApplicationError("EKM answered 500", activities.ErrTypeRejected, nil)
		}
		return okResult(in, 0), nil
	})
	u := &updateCallbacks{}
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(UpdateSyncNow, "now", u, SyncNowInput{OrderIDs: []int64{9}})
	}, time.Minute)
	env.RegisterDelayedCallback(func() {
		st := queryStatus(t, env)
		if !u.done || u.err == nil {
			t.Errorf("sync-now answered %+v (err %v, done %v), want the failure", u.result, u.err, u.done)
		}
		if st.PendingHints() != 0 || st.Totals.Failures != 1 || st.Totals.Syncs != 1 || st.Totals.HintFetches != 1 {
			t.Errorf("after the failed sync: %+v", st)
		}
		env.CancelWorkflow()
	}, 3*time.Minute)
	env.ExecuteWorkflow(OrderSync, contract.OrderSyncState{Channel: "shop"})
	// The id the failed sync was asked for is fetched next, not lost.
	if len(hintRuns) != 1 || len(hintRuns[0].Hints) != 1 || hintRuns[0].Hints[0] != 9 {
		t.Fatalf("hint runs = %+v", hintRuns)
	}
}
