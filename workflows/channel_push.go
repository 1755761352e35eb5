package workflows

import (
	"errors"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/contract"
	"github.com/ekmsync/ekmsync/internal/present"
)

// maxPassesPerRun bounds a run's history besides Temporal's suggestion: a pass
// is a few dozen events.
const maxPassesPerRun = 300

// fallbackWait is how long the loop waits after a failed check, when it could not
// read its sweep interval.
const fallbackWait = time.Minute

// ChannelPush is a channel's outbound loop (docs/channel-semantics.md §4). Each pass
// makes EKM show what the hub says, in priority order: despatches, cancellations,
// stock, prices; each step is an activity that computes "desired minus confirmed"
// from PostgreSQL. A pass runs when the hub changes (the wake signal, sent by the
// worker's LISTEN/NOTIFY listener and by the starter), on a push-now update, and
// every push-sweep-interval. While the channel is disabled or needs
// reauthorisation the loop idles, keeping the pending work in the hub, and says
// why in its status query and the EkmChannelState search attribute. Its state is
// one struct, contract.PushState: what it starts from (a starter passes only the
// channel), what its status query answers and what it continues as new with.
func ChannelPush(ctx workflow.Context, st contract.PushState) error {
	if strings.TrimSpace(st.Channel) == "" {
		return temporal.NewNonRetryableApplicationError("ChannelPush needs a channel name", contract.ErrTypeBadInput, nil)
	}
	if st.State == "" {
		st.State = contract.PushWaiting
	}
	w := &channelPush{st: st}
	if err := w.setup(ctx); err != nil {
		return err
	}
	return w.run(ctx)
}

// channelPush is one run of the loop.
type channelPush struct {
	st contract.PushState
	// pushNow serves the push-now Update.
	pushNow runNow[struct{}, contract.PushNowResult]
	// runPasses counts this run's passes, for its history's bound.
	runPasses int
	// wakes counts the wake signals this run received, so that a step can tell
	// whether one came while its check ran.
	wakes int
	// shown is the channel state this run last set as a search attribute.
	shown channel.State
}

// setup registers the status query, the push-now update and the wake signal.
func (w *channelPush) setup(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QueryStatus, func() (contract.PushState, error) { return w.st, nil }); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandler(ctx, UpdatePushNow, func(ctx workflow.Context) (contract.PushNowResult, error) {
		return w.pushNow.ask(ctx, struct{}{})
	}); err != nil {
		return err
	}
	wake := workflow.GetSignalChannel(ctx, SignalWake)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			wake.Receive(ctx, nil)
			w.st.Woken = true
			w.wakes++
		}
	})
	return nil
}

// run is the loop: continue as new at its one safe point, else take a step
// (check the channel, run a pass) and wait as long as the step says. It waits
// only when it would not continue as new, so that a full history goes straight
// back to the safe point.
func (w *channelPush) run(ctx workflow.Context) error {
	for {
		if ctx.Err() != nil {
			return ctx.Err() // cancelled by an operator: the loop stops
		}
		if w.shouldContinueAsNew(ctx) && !w.pushNow.waiting() {
			if next, err := w.continueAsNew(ctx); next == nextContinueAsNew {
				return err
			}
			continue // a push-now came meanwhile: serve it first
		}
		next, wait := w.step(ctx)
		if next == nextEnd {
			return nil
		}
		if wait > 0 && !w.shouldContinueAsNew(ctx) {
			w.wait(ctx, wait)
		}
	}
}

// step checks the channel and, when it may run, runs a pass. It answers the
// push-nows it serves and says how long the loop then waits (0: go on at once).
func (w *channelPush) step(ctx workflow.Context) (loopNext, time.Duration) {
	wakes, asked := w.wakes, w.pushNow.upTo()
	check, err := w.check(ctx)
	if contract.IsType(err, contract.ErrTypeChannelGone) {
		return nextEnd, 0
	}
	if err != nil {
		// The hub is unreachable: answer waiting push-nows (they would otherwise
		// wait for the outage) and try again later.
		w.pushNow.answer(w.pushNow.upTo(), contract.PushNowResult{
			ChannelState: channel.Status{State: w.st.ChannelState.State, Reason: "the hub could not be read: " + err.Error()}}, nil)
		return nextGoOn, fallbackWait
	}
	w.st.ChannelState = check.Status
	w.publish(ctx)
	if !check.Runnable {
		w.st.State = contract.PushIdle
		w.st.Woken = false
		w.st.Refused = false // the hub knows why: once runnable again, push at once
		w.pushNow.answer(w.pushNow.upTo(), contract.PushNowResult{ChannelState: check.Status}, nil)
		return nextGoOn, sweep(check)
	}
	if w.st.Refused {
		w.st.Refused = false
		return nextGoOn, sweep(check)
	}
	target := w.pushNow.upTo()
	w.st.Woken = false
	// An idle check holds only if nothing asked for a pass while it ran: a
	// wake-up or push-now that came meanwhile may be for a change it did not see.
	idle := check.Idle && w.wakes == wakes && target == asked
	pass, err := w.pass(ctx, idle)
	w.st.Passes++
	w.runPasses++
	w.st.Last = &pass
	w.pushNow.answer(target, contract.PushNowResult{Ran: true, ChannelState: check.Status, Pass: &pass}, nil)
	switch {
	case contract.IsType(err, contract.ErrTypeChannelGone):
		return nextEnd, 0
	case err == nil && pass.More:
		w.st.Woken = true // work is left: the next pass follows at once, in this run or the next
		return nextGoOn, 0
	case err == nil && (w.st.Woken || w.pushNow.waiting()):
		return nextGoOn, 0
	case contract.IsType(err, contract.ErrTypeDisabled) || contract.IsType(err, contract.ErrTypeNeedsReauth):
		// A refused pass goes back to the check at once, which idles the loop when
		// the hub knows why; if the hub still says runnable, the check waits a
		// sweep first, so that a refusal cannot make the loop a busy one.
		w.st.Refused = true
		return nextGoOn, 0
	}
	wait := sweep(check)
	if pass.Despatches.Busy+pass.Cancellations.Busy > 0 {
		// Another attempt held some orders: it sends them, or, if it died, its
		// claims expire within a lease, and the next pass then sends them.
		wait = min(wait, contract.OrderClaimLease+time.Second)
	}
	return nextGoOn, wait
}

// pushCheckLocal is the change after which the check runs as a local activity
// (pushCheckLocalOptions); a history recorded before it replays with the
// activity it scheduled.
const pushCheckLocal = "push-check-local-activity"

// check runs the check of the channel before a pass. As a local activity it
// runs inside the workflow task that the sweep's timer or a wake-up started:
// an idle channel's sweep is then one workflow task, where an activity costs
// the server a task to dispatch, its timeouts and a second workflow task, and
// 500 channels' sweeps were a large part of what kept a dev server busy.
func (w *channelPush) check(ctx workflow.Context) (contract.PushCheckResult, error) {
	in := contract.PushInput{Channel: w.st.Channel}
	if workflow.GetVersion(ctx, pushCheckLocal, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return execute[contract.PushCheckResult](ctx, pushCheckOptions, contract.PushCheck, in)
	}
	var check contract.PushCheckResult
	err := workflow.ExecuteLocalActivity(workflow.WithLocalActivityOptions(ctx, pushCheckLocalOptions), contract.PushCheck, in).Get(ctx, &check)
	return check, err
}

// sweep is how long the loop waits for a wake-up before it looks again on its
// own: the channel's push-sweep-interval, or fallbackWait when the check had none.
func sweep(check contract.PushCheckResult) time.Duration {
	if check.Sweep <= 0 {
		return fallbackWait
	}
	return check.Sweep
}

// pass runs the four steps in priority order. A step that stops at its bound
// (More) ends the pass, so that the next pass starts again with despatches. A
// pass the check found idle runs no step: it has nothing to send, and a sweep
// of an idle channel costs its check alone.
func (w *channelPush) pass(ctx workflow.Context, idle bool) (contract.PushPass, error) {
	w.st.State = contract.PushRunning
	p := contract.PushPass{Started: workflow.Now(ctx)}
	if idle {
		p.Ended = p.Started
		return p, nil
	}
	steps := []struct {
		name string
		into *contract.StepResult
	}{
		{contract.PushDespatches, &p.Despatches},
		{contract.PushCancellations, &p.Cancellations},
		{contract.PushStock, &p.Stock},
		{contract.PushPrices, &p.Prices},
	}
	var err error
	for _, s := range steps {
		var r contract.StepResult
		r, err = execute[contract.StepResult](ctx, pushStepOptions, s.name, contract.PushInput{Channel: w.st.Channel})
		s.into.Add(r)
		if err != nil {
			p.Error = errorText(err)
			break
		}
		if r.More {
			p.More = true
			break
		}
	}
	p.Ended = workflow.Now(ctx)
	return p, err
}

// wait waits for a wake-up, a push-now or the sweep interval.
func (w *channelPush) wait(ctx workflow.Context, d time.Duration) {
	if w.st.State != contract.PushIdle {
		w.st.State = contract.PushWaiting
	}
	next := workflow.Now(ctx).Add(d)
	w.st.NextSweep = &next
	setDetails(ctx, present.PushDetails(w.st))
	_, _ = awaitOrTimeout(ctx, d, func() bool { return w.st.Woken || w.pushNow.waiting() || historyFull(ctx) })
	w.st.NextSweep = nil
}

// publish sets the EkmChannelState search attribute from the state, when it
// changed since this run last set it.
func (w *channelPush) publish(ctx workflow.Context) {
	if st := w.st.ChannelState.State; st != w.shown {
		w.shown = st
		_ = workflow.UpsertTypedSearchAttributes(ctx, SAChannelState.ValueSet(string(st)))
	}
}

func (w *channelPush) shouldContinueAsNew(ctx workflow.Context) bool {
	return w.runPasses >= maxPassesPerRun || historyFull(ctx)
}

// continueAsNew is the loop's one safe point: once every push-now has been
// answered (all handlers finished), it returns nextContinueAsNew with the error
// that starts the next run with the state and the wake-ups received so far; or
// nextGoOn when a new push-now came meanwhile, which the loop serves first.
func (w *channelPush) continueAsNew(ctx workflow.Context) (loopNext, error) {
	_ = workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) || w.pushNow.waiting() })
	if w.pushNow.waiting() {
		return nextGoOn, nil
	}
	wake := workflow.GetSignalChannel(ctx, SignalWake)
	for wake.ReceiveAsync(nil) {
		w.st.Woken = true
	}
	return nextContinueAsNew, workflow.NewContinueAsNewError(ctx, ChannelPushWorkflow, w.st)
}

// errorText is a short explanation of an activity's failure for the status.
func errorText(err error) string {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return app.Error()
	}
	return err.Error()
}
