package workflows

import (
	"errors"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/contract"
)

// ChannelPushInput is the input of ChannelPush. Starters pass ChannelInput, whose
// JSON it reads; the other fields carry the loop's state across continue-as-new.
type ChannelPushInput struct {
	Channel string `json:"channel"`
	// Woken carries a wake-up that came just before continue-as-new.
	Woken bool `json:"woken,omitempty"`
	// Passes counts the passes of the loop's whole life.
	Passes int `json:"passes,omitempty"`
	// Last is the latest pass, so the status query keeps showing it.
	Last *PushPass `json:"last,omitempty"`
}

// PushPass is what one pass of the loop did, step by step.
type PushPass struct {
	Started       time.Time           `json:"started"`
	Ended         time.Time           `json:"ended"`
	Despatches    contract.StepResult `json:"despatches"`
	Cancellations contract.StepResult `json:"cancellations"`
	Stock         contract.StepResult `json:"stock"`
	Prices        contract.StepResult `json:"prices"`
	// More is true when a step stopped at its bound: another pass follows at once.
	More bool `json:"more,omitempty"`
	// Error says why the pass stopped early, if it did; the next wake-up or
	// sweep tries again.
	Error string `json:"error,omitempty"`
}

// The loop's states, as the status query reports them.
const (
	PushRunning = "running" // a pass runs
	PushWaiting = "waiting" // for a hub change, a push-now or the sweep
	PushIdle    = "idle"    // the channel is disabled or needs reauthorisation
)

// PushStatus is the answer of the status query.
type PushStatus struct {
	Channel      string         `json:"channel"`
	State        string         `json:"state"`
	ChannelState channel.Status `json:"channel_state"`
	Passes       int            `json:"passes"`
	NextSweep    *time.Time     `json:"next_sweep,omitempty"`
	Last         *PushPass      `json:"last,omitempty"`
}

// PushNowResult is the answer of the push-now update: the pass it ran, or why none
// ran.
type PushNowResult struct {
	Ran          bool           `json:"ran"`
	ChannelState channel.Status `json:"channel_state"`
	Pass         *PushPass      `json:"pass,omitempty"`
}

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
// why in its status query and the EkmChannelState search attribute.
func ChannelPush(ctx workflow.Context, in ChannelPushInput) error {
	if strings.TrimSpace(in.Channel) == "" {
		return temporal.NewNonRetryableApplicationError("ChannelPush needs a channel name", contract.ErrTypeBadInput, nil)
	}
	w := &channelPushImpl{in: in, woken: in.Woken, passes: in.Passes, last: in.Last, state: PushWaiting}
	if err := w.setup(ctx); err != nil {
		return err
	}
	return w.run(ctx)
}

type channelPushImpl struct {
	in    ChannelPushInput
	woken bool
	// pushNow serves the push-now Update.
	pushNow           runNow[struct{}, PushNowResult]
	passes, runPasses int
	last              *PushPass
	state             string
	chState           channel.Status
	nextSweep         *time.Time
	// refused is set after a pass EKM or the gate refused, until the next check.
	refused bool
}

// status is what the status query answers.
func (w *channelPushImpl) status() PushStatus {
	return PushStatus{Channel: w.in.Channel, State: w.state, ChannelState: w.chState, Passes: w.passes,
		NextSweep: w.nextSweep, Last: w.last}
}

// setup registers the status query, the push-now update and the wake signal.
func (w *channelPushImpl) setup(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QueryStatus, func() (PushStatus, error) { return w.status(), nil }); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandler(ctx, UpdatePushNow, func(ctx workflow.Context) (PushNowResult, error) {
		return w.pushNow.ask(ctx, struct{}{})
	}); err != nil {
		return err
	}
	wake := workflow.GetSignalChannel(ctx, SignalWake)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			wake.Receive(ctx, nil)
			w.woken = true
		}
	})
	return nil
}

// run is the loop: check the channel, run a pass, wait.
func (w *channelPushImpl) run(ctx workflow.Context) error {
	for {
		if ctx.Err() != nil {
			return ctx.Err() // cancelled by an operator: the loop stops
		}
		if historyFull(ctx) && !w.pushNow.waiting() {
			// Woken by a full history (a flood of signals while waiting): continue
			// as new before anything else, unless a push-now came meanwhile.
			if next, err := w.continueAsNew(ctx); next == nextContinueAsNew {
				return err
			}
		}
		check, err := w.check(ctx)
		if contract.IsType(err, contract.ErrTypeChannelGone) {
			return nil
		}
		if err != nil {
			// The hub is unreachable: answer waiting push-nows (they would otherwise
			// wait for the outage), keep the history bounded, and try again later.
			w.answer(PushNowResult{ChannelState: channel.Status{State: w.chState.State, Reason: "the hub could not be read: " + err.Error()}}, w.pushNow.upTo())
			if w.shouldContinueAsNew(ctx) {
				if next, err := w.continueAsNew(ctx); next == nextContinueAsNew {
					return err
				}
			}
			w.wait(ctx, fallbackWait)
			continue
		}
		w.setChannelState(ctx, check.Status)
		if !check.Runnable {
			w.state = PushIdle
			w.woken = false
			w.refused = false // the hub knows why: once runnable again, push at once
			w.answer(PushNowResult{ChannelState: check.Status}, w.pushNow.upTo())
			if w.shouldContinueAsNew(ctx) {
				if next, err := w.continueAsNew(ctx); next == nextContinueAsNew {
					return err
				}
				continue // a push-now came meanwhile: answer it first
			}
			w.wait(ctx, check.Sweep)
			continue
		}
		if w.refused {
			w.refused = false
			w.wait(ctx, check.Sweep)
			continue
		}
		target := w.pushNow.upTo()
		w.woken = false
		pass, err := w.pass(ctx)
		w.passes++
		w.runPasses++
		w.last = &pass
		w.answer(PushNowResult{Ran: true, ChannelState: check.Status, Pass: &pass}, target)
		if contract.IsType(err, contract.ErrTypeChannelGone) {
			return nil
		}
		again := err == nil && (pass.More || w.woken || w.pushNow.waiting())
		if w.shouldContinueAsNew(ctx) && !w.pushNow.waiting() {
			w.woken = w.woken || again
			if next, err := w.continueAsNew(ctx); next == nextContinueAsNew {
				return err
			}
			again = true // a push-now came meanwhile: serve it first
		}
		if again {
			continue
		}
		if contract.IsType(err, contract.ErrTypeDisabled) || contract.IsType(err, contract.ErrTypeNeedsReauth) {
			// A refused pass goes back to the check at once, which idles the loop when
			// the hub knows why; if the hub still says runnable, the check waits a
			// sweep first, so that a refusal cannot make the loop a busy one.
			w.refused = true
			continue
		}
		wait := check.Sweep
		if pass.Despatches.Busy+pass.Cancellations.Busy > 0 {
			// Another attempt held some orders: it sends them, or, if it died, its
			// claims expire within a lease, and the next pass then sends them.
			wait = min(wait, contract.OrderClaimLease+time.Second)
		}
		w.wait(ctx, wait)
	}
}

// check runs the PushCheck activity.
func (w *channelPushImpl) check(ctx workflow.Context) (contract.PushCheckResult, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: 10 * time.Second, MaximumAttempts: 5},
	})
	var res contract.PushCheckResult
	err := workflow.ExecuteActivity(ctx, contract.PushCheck, contract.PushInput{Channel: w.in.Channel}).Get(ctx, &res)
	return res, err
}

// pass runs the four steps in priority order. A step that stops at its bound
// (More) ends the pass, so that the next pass starts again with despatches.
func (w *channelPushImpl) pass(ctx workflow.Context) (PushPass, error) {
	w.state = PushRunning
	p := PushPass{Started: workflow.Now(ctx)}
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		// Each call starts no new send after its batch bound (seconds), but one
		// slow answer may take a while: the heartbeat, sent throughout, is what
		// detects a lost worker.
		StartToCloseTimeout: 10 * time.Minute,
		HeartbeatTimeout:    10 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2,
			MaximumInterval: 30 * time.Second, MaximumAttempts: 5},
	})
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
		err = workflow.ExecuteActivity(ctx, s.name, contract.PushInput{Channel: w.in.Channel}).Get(ctx, &r)
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

// answer completes the push-now updates up to number upTo with res.
func (w *channelPushImpl) answer(res PushNowResult, upTo int) {
	w.pushNow.answer(upTo, res, nil)
}

// wait waits for a wake-up, a push-now or the sweep interval.
func (w *channelPushImpl) wait(ctx workflow.Context, d time.Duration) {
	if d <= 0 {
		d = fallbackWait
	}
	if w.state != PushIdle {
		w.state = PushWaiting
	}
	next := workflow.Now(ctx).Add(d)
	w.nextSweep = &next
	setDetails(ctx, pushDetails(w.status()))
	_, _ = awaitOrTimeout(ctx, d, func() bool { return w.woken || w.pushNow.waiting() || historyFull(ctx) })
	w.nextSweep = nil
}

// setChannelState records the channel's state for the status query and the
// EkmChannelState search attribute, upserting it only when it changes.
func (w *channelPushImpl) setChannelState(ctx workflow.Context, st channel.Status) {
	changed := st.State != w.chState.State
	w.chState = st
	if changed {
		_ = workflow.UpsertTypedSearchAttributes(ctx, SAChannelState.ValueSet(string(st.State)))
	}
}

func (w *channelPushImpl) shouldContinueAsNew(ctx workflow.Context) bool {
	return w.runPasses >= maxPassesPerRun || historyFull(ctx)
}

// continueAsNew waits until every push-now update has been answered, then
// returns nextContinueAsNew with the error that starts the next run with the
// loop's state and the wake-ups received so far; or nextGoOn when a new push-now
// came meanwhile, which the loop serves first.
func (w *channelPushImpl) continueAsNew(ctx workflow.Context) (loopNext, error) {
	_ = workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) || w.pushNow.waiting() })
	if w.pushNow.waiting() {
		return nextGoOn, nil
	}
	wake := workflow.GetSignalChannel(ctx, SignalWake)
	for wake.ReceiveAsync(nil) {
		w.woken = true
	}
	return nextContinueAsNew, workflow.NewContinueAsNewError(ctx, ChannelPushWorkflow, ChannelPushInput{
		Channel: w.in.Channel, Woken: w.woken, Passes: w.passes, Last: w.last,
	})
}

// errorText is a short explanation of an activity's failure for the status.
func errorText(err error) string {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return app.Error()
	}
	return err.Error()
}
