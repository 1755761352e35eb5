package workflows_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
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
	"github.com/ekmsync/ekmsync/workflows"
)

// pushTest is a test environment for ChannelPush with mocked activities that
// record the order of their calls.
type pushTest struct {
	t   *testing.T
	env *testsuite.TestWorkflowEnvironment

	mu    sync.Mutex
	calls []string
}

var acts *activities.Activities

var (
	ok       = activities.PushCheckResult{Status: channel.Status{State: channel.StateOK}, Runnable: true, Sweep: time.Hour}
	disabled = activities.PushCheckResult{Status: channel.Status{State: channel.StateDisabled, Reason: "channel is disabled"}, Sweep: time.Hour}
)

func newPushTest(t *testing.T) *pushTest {
	var s testsuite.WorkflowTestSuite
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.DiscardHandler)))
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(workflows.ChannelPush, workflow.RegisterOptions{Name: workflows.ChannelPushWorkflow})
	env.RegisterActivity(acts)
	env.OnUpsertTypedSearchAttributes(mock.Anything).Return(nil).Maybe()
	return &pushTest{t: t, env: env}
}

// step mocks a step activity: each call is recorded, and returns the next result
// of results (the last one repeats).
func (p *pushTest) step(name string, fn any, results ...any) {
	var n int
	p.env.OnActivity(fn, mock.Anything, mock.Anything).Return(func(_ context.Context, _ activities.PushInput) (activities.StepResult, error) {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.calls = append(p.calls, name)
		r := results[min(n, len(results)-1)]
		n++
		if err, isErr := r.(error); isErr {
			return activities.StepResult{}, err
		}
		return r.(activities.StepResult), nil
	})
}

// steps mocks all four steps: those named in results answer them in turn, the
// others empty results.
func (p *pushTest) steps(results map[string][]any) {
	for _, s := range []struct {
		name string
		fn   any
	}{{"despatches", acts.PushDespatches}, {"cancellations", acts.PushCancellations}, {"stock", acts.PushStock}, {"prices", acts.PushPrices}} {
		r, ok := results[s.name]
		if !ok {
			r = []any{activities.StepResult{}}
		}
		p.step(s.name, s.fn, r...)
	}
}

// checks mocks PushCheck to answer each of results in turn (the last repeats).
func (p *pushTest) checks(results ...activities.PushCheckResult) {
	var n int
	p.env.OnActivity(acts.PushCheck, mock.Anything, mock.Anything).Return(func(_ context.Context, _ activities.PushInput) (activities.PushCheckResult, error) {
		r := results[min(n, len(results)-1)]
		n++
		return r, nil
	})
}

func (p *pushTest) count(name string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, c := range p.calls {
		if c == name {
			n++
		}
	}
	return n
}

func (p *pushTest) status() contract.PushState {
	p.t.Helper()
	v, err := p.env.QueryWorkflow(workflows.QueryStatus)
	if err != nil {
		p.t.Fatalf("status query: %v", err)
	}
	var s contract.PushState
	if err := v.Get(&s); err != nil {
		p.t.Fatal(err)
	}
	return s
}

// at runs f at workflow time d.
func (p *pushTest) at(d time.Duration, f func()) { p.env.RegisterDelayedCallback(f, d) }

// run runs the workflow, cancelling it at end (it never ends on its own).
func (p *pushTest) run(end time.Duration) {
	p.at(end, p.env.CancelWorkflow)
	p.env.ExecuteWorkflow(workflows.ChannelPushWorkflow, workflows.ChannelInput{Channel: "shop"})
}

func TestChannelPushRunsTheStepsInPriorityOrder(t *testing.T) {
	p := newPushTest(t)
	p.checks(ok)
	p.steps(map[string][]any{"stock": {activities.StepResult{Sent: 3}}})
	var st contract.PushState
	p.at(time.Minute, func() { st = p.status() })
	p.run(2 * time.Minute)
	want := []string{"despatches", "cancellations", "stock", "prices"}
	if len(p.calls) != 4 {
		t.Fatalf("calls = %v, want one pass: %v", p.calls, want)
	}
	for i := range want {
		if p.calls[i] != want[i] {
			t.Fatalf("calls = %v, want %v", p.calls, want)
		}
	}
	if st.State != contract.PushWaiting || st.Passes != 1 || st.Last == nil || st.Last.Stock.Sent != 3 || st.NextSweep == nil {
		t.Fatalf("status = %+v", st)
	}
}

func TestChannelPushWakeRunsAPassBeforeTheSweep(t *testing.T) {
	p := newPushTest(t)
	p.checks(ok)
	p.steps(nil)
	var passes int
	p.at(10*time.Minute, func() { p.env.SignalWorkflow(workflows.SignalWake, nil) })
	p.at(11*time.Minute, func() { passes = p.status().Passes })
	p.run(20 * time.Minute) // the sweep is an hour
	if passes != 2 || p.count("despatches") != 2 {
		t.Fatalf("passes = %d, despatch calls = %d; want 2 (start and wake)", passes, p.count("despatches"))
	}
}

func TestChannelPushSweepsWithoutAWake(t *testing.T) {
	p := newPushTest(t)
	p.checks(activities.PushCheckResult{Status: ok.Status, Runnable: true, Sweep: time.Minute})
	p.steps(nil)
	p.run(3*time.Minute + 30*time.Second)
	if n := p.count("prices"); n != 4 {
		t.Fatalf("%d passes in 3.5 minutes with a 1-minute sweep, want 4", n)
	}
}

// A sweep whose check finds nothing to do runs no step; the next that finds
// work runs the four.
func TestChannelPushSkipsTheStepsWhenTheCheckFindsNothingToDo(t *testing.T) {
	p := newPushTest(t)
	idle := activities.PushCheckResult{Status: ok.Status, Runnable: true, Sweep: time.Minute, Idle: true}
	busy := idle
	busy.Idle = false
	p.checks(idle, idle, busy, idle)
	p.steps(nil)
	var passes int
	p.at(3*time.Minute+30*time.Second, func() { passes = p.status().Passes })
	p.run(3*time.Minute + 30*time.Second)
	if passes != 4 || p.count("despatches") != 1 || p.count("prices") != 1 {
		t.Fatalf("passes %d, calls %v; want 4 passes, the third alone running the steps", passes, p.calls)
	}
}

// The check runs as a local activity, inside the workflow task that the sweep's
// timer started, and the steps as activities: an idle sweep costs the server one
// workflow task.
func TestChannelPushChecksInALocalActivity(t *testing.T) {
	p := newPushTest(t)
	p.checks(activities.PushCheckResult{Status: ok.Status, Runnable: true, Sweep: time.Minute})
	p.steps(nil)
	var local, scheduled []string
	p.env.SetOnLocalActivityStartedListener(func(info *activity.Info, _ context.Context, _ []any) {
		local = append(local, info.ActivityType.Name)
	})
	p.env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
		scheduled = append(scheduled, info.ActivityType.Name)
	})
	p.run(90 * time.Second)
	if len(local) != 2 || local[0] != contract.PushCheck || local[1] != contract.PushCheck {
		t.Errorf("local activities %v, want the two checks (start and sweep)", local)
	}
	if slices.Contains(scheduled, contract.PushCheck) || len(scheduled) != 8 {
		t.Errorf("activities %v, want the four steps of each of the two passes and no check", scheduled)
	}
}

// A check that found nothing, but during which a wake-up came, does not skip the
// steps: the wake-up may be for a change the check did not see.
func TestChannelPushRunsTheStepsWhenAWakeCameDuringAnIdleCheck(t *testing.T) {
	p := newPushTest(t)
	idle := activities.PushCheckResult{Status: ok.Status, Runnable: true, Sweep: time.Hour, Idle: true}
	p.env.OnActivity(acts.PushCheck, mock.Anything, mock.Anything).Return(idle, nil).After(time.Minute)
	p.steps(nil)
	p.at(30*time.Second, func() { p.env.SignalWorkflow(workflows.SignalWake, nil) })
	p.run(10 * time.Minute)
	if n := p.count("despatches"); n != 1 {
		t.Fatalf("%d passes ran their steps, want 1: the one whose check a wake-up overlapped", n)
	}
}

func TestChannelPushStepWithMoreWorkEndsThePassAndStartsAnotherAtOnce(t *testing.T) {
	p := newPushTest(t)
	p.checks(ok)
	p.steps(map[string][]any{"stock": {activities.StepResult{Sent: 10, More: true}, activities.StepResult{Sent: 2}}})
	var passes int
	p.at(time.Minute, func() { passes = p.status().Passes })
	p.run(2 * time.Minute)
	// Pass 1 stops at stock (prices wait); pass 2 starts again with despatches.
	if passes != 2 || p.count("despatches") != 2 || p.count("prices") != 1 {
		t.Fatalf("passes %d, calls %v", passes, p.calls)
	}
}

func TestChannelPushIdlesWhileDisabledAndResumesOnWake(t *testing.T) {
	p := newPushTest(t)
	p.checks(disabled, disabled, ok)
	p.steps(nil)
	var idle contract.PushState
	var now contract.PushNowResult
	p.at(time.Minute, func() {
		idle = p.status()
		p.env.UpdateWorkflow(workflows.UpdatePushNow, "now-1", &testsuite.TestUpdateCallback{
			OnReject:   func(err error) { t.Errorf("push-now rejected: %v", err) },
			OnComplete: func(v any, err error) { now, _ = v.(contract.PushNowResult) },
		})
	})
	p.at(2*time.Minute, func() { p.env.SignalWorkflow(workflows.SignalWake, nil) })
	var resumed contract.PushState
	p.at(3*time.Minute, func() { resumed = p.status() })
	p.run(4 * time.Minute)
	if idle.State != contract.PushIdle || idle.ChannelState.State != channel.StateDisabled || idle.Passes != 0 {
		t.Errorf("status while disabled = %+v", idle)
	}
	if now.Ran || now.ChannelState.State != channel.StateDisabled {
		t.Errorf("push-now while disabled = %+v, want no pass and the reason", now)
	}
	if resumed.Passes != 1 || resumed.ChannelState.State != channel.StateOK || p.count("despatches") != 1 {
		t.Errorf("after enable and wake: %+v, calls %v", resumed, p.calls)
	}
}

func TestChannelPushPushNowReturnsThePassItRan(t *testing.T) {
	p := newPushTest(t)
	p.checks(ok)
	p.steps(map[string][]any{"despatches": {activities.StepResult{}, activities.StepResult{Sent: 1}}})
	var got contract.PushNowResult
	var done bool
	p.at(time.Minute, func() {
		p.env.UpdateWorkflow(workflows.UpdatePushNow, "now-1", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { t.Errorf("push-now rejected: %v", err) },
			OnComplete: func(v any, err error) {
				got, _ = v.(contract.PushNowResult)
				done = err == nil
			},
		})
	})
	p.run(2 * time.Minute)
	if !done || !got.Ran || got.Pass == nil || got.Pass.Despatches.Sent != 1 {
		t.Fatalf("push-now = %+v (done %v), want the second pass with one despatch", got, done)
	}
}

func TestChannelPushGoesIdleWhenTheChannelIsDisabledMidPass(t *testing.T) {
	p := newPushTest(t)
	p.checks(ok, disabled)
	p.steps(map[string][]any{"despatches": {temporal.NewNonRetryableApplicationError("channel is disabled", activities.ErrTypeDisabled, nil)}})
	var st contract.PushState
	p.at(time.Minute, func() { st = p.status() })
	p.run(2 * time.Minute)
	if st.State != contract.PushIdle || p.count("stock") != 0 || st.Last == nil || st.Last.Error == "" {
		t.Fatalf("status = %+v, calls %v; want idle after the refused pass", st, p.calls)
	}
	if err := p.env.GetWorkflowError(); !temporal.IsCanceledError(err) {
		t.Fatalf("workflow ended with %v, want only the test's cancellation", err)
	}
}

func TestChannelPushSurvivesAFailedPass(t *testing.T) {
	p := newPushTest(t)
	p.checks(activities.PushCheckResult{Status: ok.Status, Runnable: true, Sweep: time.Minute})
	p.steps(map[string][]any{"stock": {temporal.NewNonRetryableApplicationError("EKM refused", activities.ErrTypeRejected, nil), activities.StepResult{}}})
	var first contract.PushState
	p.at(30*time.Second, func() { first = p.status() })
	p.run(90 * time.Second)
	if first.Last == nil || first.Last.Error == "" || first.State != contract.PushWaiting {
		t.Fatalf("after the failed pass: %+v", first)
	}
	if p.count("stock") != 2 || p.count("prices") != 1 {
		t.Fatalf("calls %v: want the next sweep to run a full pass", p.calls)
	}
}

func TestChannelPushEndsQuietlyWhenTheChannelIsGone(t *testing.T) {
	p := newPushTest(t)
	p.env.OnActivity(acts.PushCheck, mock.Anything, mock.Anything).Return(activities.PushCheckResult{},
		temporal.NewNonRetryableApplicationError("channel shop: not found", activities.ErrTypeChannelGone, nil))
	p.env.ExecuteWorkflow(workflows.ChannelPushWorkflow, workflows.ChannelInput{Channel: "shop"})
	if !p.env.IsWorkflowCompleted() || p.env.GetWorkflowError() != nil {
		t.Fatalf("completed %v, error %v; want a quiet end", p.env.IsWorkflowCompleted(), p.env.GetWorkflowError())
	}
}

func TestChannelPushContinuesAsNewWithItsStateAndWakeUps(t *testing.T) {
	p := newPushTest(t)
	p.checks(activities.PushCheckResult{Status: ok.Status, Runnable: true, Sweep: time.Minute})
	p.steps(nil)
	p.env.ExecuteWorkflow(workflows.ChannelPushWorkflow, contract.PushState{Channel: "shop", Passes: 7})
	var can *workflow.ContinueAsNewError
	if !errors.As(p.env.GetWorkflowError(), &can) {
		t.Fatalf("workflow ended with %v, want continue-as-new", p.env.GetWorkflowError())
	}
	var next contract.PushState
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &next); err != nil {
		t.Fatal(err)
	}
	if next.Channel != "shop" || next.Passes != 7+300 || next.Last == nil {
		t.Fatalf("next run's input = %+v", next)
	}
}

func TestChannelPushRefusesAnEmptyChannel(t *testing.T) {
	p := newPushTest(t)
	p.env.ExecuteWorkflow(workflows.ChannelPushWorkflow, workflows.ChannelInput{})
	var app *temporal.ApplicationError
	if err := p.env.GetWorkflowError(); !errors.As(err, &app) || !app.NonRetryable() {
		t.Fatalf("error = %v, want a non-retryable bad input", err)
	}
}

// A pass refused while the hub still says the channel can run (EKM refused, the
// hub does not know yet) is not retried at once: the loop waits a sweep, so that
// it never spins.
func TestChannelPushDoesNotSpinOnARefusalTheHubDoesNotKnow(t *testing.T) {
	p := newPushTest(t)
	p.checks(activities.PushCheckResult{Status: ok.Status, Runnable: true, Sweep: time.Minute})
	refusal := temporal.NewNonRetryableApplicationError("EKM refused the consent", activities.ErrTypeNeedsReauth, nil)
	p.steps(map[string][]any{"despatches": {refusal, refusal, refusal, refusal, refusal, refusal}})
	p.run(150 * time.Second)
	if n := p.count("despatches"); n < 2 || n > 4 {
		t.Fatalf("%d passes in 150 s with a 1 min sweep: want a pass per sweep, not a busy loop", n)
	}
}

// A push loop whose history reaches its own bound of events while it waits
// continues as new before running another pass.
func TestChannelPushContinuesAsNewOnItsOwnHistoryBound(t *testing.T) {
	p := newPushTest(t)
	p.checks(ok)
	p.steps(nil)
	p.at(time.Minute, func() {
		p.env.SetCurrentHistoryLength(10_000)
		p.env.SignalWorkflow(workflows.SignalWake, nil)
	})
	p.env.ExecuteWorkflow(workflows.ChannelPushWorkflow, workflows.ChannelInput{Channel: "shop"})
	var can *workflow.ContinueAsNewError
	if !errors.As(p.env.GetWorkflowError(), &can) {
		t.Fatalf("workflow ended with %v, want continue-as-new", p.env.GetWorkflowError())
	}
	var next contract.PushState
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &next); err != nil {
		t.Fatal(err)
	}
	if next.Passes != 1 || next.Last == nil || p.count("despatches") != 1 {
		t.Fatalf("next run's input = %+v after %d passes; want the one pass carried", next, p.count("despatches"))
	}
}

// A pass that found orders claimed by another attempt of the push looks again
// once such a claim could have expired, not only at the next sweep.
func TestChannelPushLooksAgainAfterAClaimLeaseWhenOrdersWereBusy(t *testing.T) {
	p := newPushTest(t)
	p.checks(ok) // sweep every hour
	p.steps(map[string][]any{"despatches": {activities.StepResult{Busy: 1}, activities.StepResult{Sent: 1}}})
	p.run(activities.OrderClaimLease + 10*time.Second)
	if n := p.count("despatches"); n != 2 {
		t.Fatalf("%d despatch calls within a lease of a busy pass, want 2 (the busy one and the one after the lease)", n)
	}
}
