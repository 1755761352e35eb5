package workflows

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/ekmsync/ekmsync/activities"
	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/contract"
)

// continuedAsNew fails the test unless the run ended by continuing as new, and
// decodes the next run's input into next.
func continuedAsNew(t *testing.T, env *testsuite.TestWorkflowEnvironment, next any) {
	t.Helper()
	var can *workflow.ContinueAsNewError
	if err := env.GetWorkflowError(); !errors.As(err, &can) {
		t.Fatalf("workflow ended with %v, want continue-as-new", err)
	}
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, next); err != nil {
		t.Fatal(err)
	}
}

// An idle order sync whose history reaches its own bound of events while it
// waits (a flood of signals) continues as new at once, without the server's
// suggestion, rather than after its iteration bound.
func TestOrderSyncContinuesAsNewOnItsOwnBoundOfEvents(t *testing.T) {
	env := newOrderEnv(t)
	var reads atomic.Int32
	env.OnActivity(acts.OrderSyncConfig, mock.Anything, "shop").Return(func(context.Context, string) (activities.OrderLoopConfig, error) {
		reads.Add(1)
		return activities.OrderLoopConfig{Status: channel.Status{State: channel.StateDisabled, Reason: "disabled"}, Interval: 5 * time.Minute}, nil
	})
	env.RegisterDelayedCallback(func() {
		env.SetCurrentHistoryLength(maxRunEvents)
		env.SignalWorkflow(SignalOrderHint, OrderHint{OrderID: 21})
	}, 3*time.Second)
	env.ExecuteWorkflow(OrderSync, contract.OrderSyncState{Channel: "shop"})
	var next contract.OrderSyncState
	continuedAsNew(t, env, &next)
	if next.State != channel.StateDisabled || next.Totals.Continuances != 1 || reads.Load() != 1 {
		t.Fatalf("next run's state = %+v after %d reads of the channel; want the state carried after the first wait", next, reads.Load())
	}
}

// The same holds for history bytes: a few large signals are enough.
func TestOrderSyncContinuesAsNewOnItsOwnBoundOfBytes(t *testing.T) {
	env := newOrderEnv(t)
	channelOK(env)
	env.OnActivity(acts.SyncOrders, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.SyncOrdersInput) (activities.SyncOrdersResult, error) {
		return okResult(in, 0), nil
	})
	env.OnUpsertTypedSearchAttributes(mock.Anything).Return(nil).Maybe()
	env.RegisterDelayedCallback(func() {
		env.SetCurrentHistorySize(maxRunHistoryBytes)
		env.SignalWorkflow(SignalWake, nil)
	}, time.Minute)
	env.ExecuteWorkflow(OrderSync, contract.OrderSyncState{Channel: "shop"})
	var next contract.OrderSyncState
	continuedAsNew(t, env, &next)
	if next.Totals.Syncs != 1 || next.Totals.Continuances != 1 {
		t.Fatalf("next run's state = %+v, want one sync and one continuance", next)
	}
}

// A listing download continues as new, carrying its generation, once the history
// reaches the bound of bytes, however few slices it ran.
func TestListingDownloadContinuesAsNewOnItsOwnBoundOfBytes(t *testing.T) {
	env := listingEnv(t)
	env.OnActivity(listingActs.BeginListingDownload, mock.Anything, mock.Anything).Return(began(), nil).Once()
	env.OnActivity(listingActs.DownloadListingPages, mock.Anything, mock.Anything).Return(
		func(context.Context, activities.ListingPagesInput) (activities.ListingPagesResult, error) {
			env.SetCurrentHistorySize(maxRunHistoryBytes)
			return slice(1, 5, 7*time.Millisecond), nil
		}).Once()
	env.ExecuteWorkflow(ListingDownload, contract.ListingProgress{Channel: "shop", Slice: time.Second})
	var next contract.ListingProgress
	continuedAsNew(t, env, &next)
	if next.Downloading != 3 || next.PagesDone != 1 {
		t.Fatalf("next run's state = %+v, want generation 3 after page 1", next)
	}
}

// A flood of signals while a long sync runs: near the history's limit the loop
// stops the sync, answers the waiting sync-now with why, and continues as new
// with the hints, instead of waiting for the sync and being terminated.
func TestOrderSyncStopsALongSyncNearTheHistoryLimitAndContinuesAsNew(t *testing.T) {
	env := newOrderEnv(t)
	channelOK(env)
	env.OnUpsertTypedSearchAttributes(mock.Anything).Return(nil).Maybe()
	var u updateCallbacks
	env.OnActivity(acts.SyncOrders, mock.Anything, mock.Anything).Return(func(ctx context.Context, in activities.SyncOrdersInput) (activities.SyncOrdersResult, error) {
		// While the sync runs: a sync-now, then the flood that fills the history.
		env.UpdateWorkflow(UpdateSyncNow, "1", &u, SyncNowInput{})
		env.SetCurrentHistoryLength(2 * maxRunEvents)
		env.SignalWorkflow(SignalOrderHint, OrderHint{OrderID: 31})
		<-ctx.Done() // a sync that outlasts the flood
		return activities.SyncOrdersResult{}, ctx.Err()
	})
	env.ExecuteWorkflow(OrderSync, contract.OrderSyncState{Channel: "shop"})
	var next contract.OrderSyncState
	continuedAsNew(t, env, &next)
	if !u.done || u.err == nil {
		t.Errorf("the sync-now during the stopped sync: done %v, error %v; want an answer that says why", u.done, u.err)
	}
	if next.Totals.Failures != 0 || next.LastError == "" {
		t.Fatalf("next run's state = %+v, want the reason and no failure counted", next)
	}
}
