package workflows

import (
	"errors"
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/contract"
	"github.com/ekmsync/ekmsync/internal/present"
)

// OrderSync timing.
const (
	// idlePoll is how often an idle loop (channel disabled, needing
	// reauthorisation or misconfigured) re-reads its channel from the hub, so
	// that it resumes by itself within seconds of a fix even if no wake arrives.
	idlePoll = 15 * time.Second
	// maxIterations bounds a run's history even when the server does not
	// suggest continue-as-new yet.
	maxIterations = 300
	// maxPendingHints bounds the webhook ids a loop holds; beyond it the next
	// window sync is what catches those orders.
	maxPendingHints = 1000
)

// SyncNowInput is the argument of the sync-now Update: optionally, orders to
// fetch by id besides the sync.
type SyncNowInput struct {
	OrderIDs []int64 `json:"order_ids,omitempty"`
}

// OrderSync is a channel's order-sync loop (docs/channel-semantics.md §2): it syncs
// every order-sync interval, at once on the sync-now Update (which answers with
// what the sync did), and fetches an order by id on each order-hint signal from
// the webhook receiver. While the channel is disabled, unauthorised or
// misconfigured it idles and says why, never failing. Its state is one struct,
// contract.OrderSyncState: what it starts from (a starter passes only the
// channel), what its status query answers and what it continues as new with,
// which it does to keep its history bounded.
func OrderSync(ctx workflow.Context, st contract.OrderSyncState) error {
	if st.Channel == "" {
		return temporal.NewNonRetryableApplicationError("OrderSync needs a channel name", contract.ErrTypeBadInput, nil)
	}
	w := &orderSyncLoop{st: st}
	if err := w.setup(ctx); err != nil {
		return err
	}
	return w.run(ctx)
}

// orderSyncLoop is one run of the loop.
type orderSyncLoop struct {
	st contract.OrderSyncState
	// syncNow serves the sync-now Update: a request waits until a sync that
	// started after it ends.
	syncNow runNow[SyncNowInput, contract.SyncOrdersResult]
	hintCh  workflow.ReceiveChannel
	wakeCh  workflow.ReceiveChannel
	// shown is what this run last set as search attributes, so that an
	// unchanged value costs no history event.
	shown struct {
		state    channel.State
		syncDate *time.Time
	}
}

// setup registers the status query, the sync-now Update and the signals: a hint
// joins the pending ones, a wake-up makes the loop re-read its channel.
func (w *orderSyncLoop) setup(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QueryStatus, func() (contract.OrderSyncState, error) { return w.st, nil }); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateSyncNow, func(ctx workflow.Context, in SyncNowInput) (contract.SyncOrdersResult, error) {
		w.st.QueuedSyncs++
		defer func() { w.st.QueuedSyncs-- }()
		return w.syncNow.ask(ctx, in)
	}, workflow.UpdateHandlerOptions{
		Validator: func(ctx workflow.Context, in SyncNowInput) error {
			for _, id := range in.OrderIDs {
				if id <= 0 {
					return errors.New("order ids must be positive EKM order ids")
				}
			}
			return nil
		},
	}); err != nil {
		return err
	}
	w.hintCh = workflow.GetSignalChannel(ctx, SignalOrderHint)
	w.wakeCh = workflow.GetSignalChannel(ctx, SignalWake)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var h OrderHint
			w.hintCh.Receive(ctx, &h)
			w.addHint(h.OrderID)
		}
	})
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			w.wakeCh.Receive(ctx, nil)
			w.st.Woken = true
		}
	})
	return nil
}

// run is the loop: do what is due, continue as new at its one safe point, wait
// for the next run, a wake-up, a hint or a sync-now.
func (w *orderSyncLoop) run(ctx workflow.Context) error {
	if w.st.State == "" {
		if next, err := w.refresh(ctx); next == nextEnd || err != nil {
			return err
		}
	}
	for i := 0; ; i++ {
		next := nextGoOn
		switch w.step(workflow.Now(ctx)) {
		case orderSync:
			next = w.syncWindow(ctx)
		case orderHints:
			next = w.fetchHints(ctx)
		}
		if next == nextEnd {
			return nil
		}
		if (i >= maxIterations || historyFull(ctx)) && !w.syncNow.waiting() {
			return w.continueAsNew(ctx)
		}
		w.st.Phase = contract.PhaseWaiting
		wait := idlePoll
		if !w.ok() {
			w.st.Phase = contract.PhaseIdle
		} else if w.st.NextRunAt != nil {
			wait = max(w.st.NextRunAt.Sub(workflow.Now(ctx)), 0)
		}
		setDetails(ctx, present.OrderSyncDetails(w.st))
		// A full history ends the wait too, so that a flood of signals to an idle
		// loop continues it as new instead of growing its history to the limit.
		woken, err := awaitOrTimeout(ctx, wait, func() bool {
			return w.st.Woken || w.syncNow.waiting() || (w.ok() && len(w.st.Hints) > 0) || historyFull(ctx)
		})
		if err != nil {
			return err
		}
		if w.st.Woken || (!woken && !w.ok()) {
			w.st.Woken = false
			if next, err := w.refresh(ctx); next == nextEnd || err != nil {
				return err
			}
		}
	}
}

// orderStep is the work an iteration of the loop does before it waits.
type orderStep int

const (
	// orderNothing: nothing is due.
	orderNothing orderStep = iota
	// orderSync: a full sync, due by the interval or asked for by sync-now, with
	// the pending hints and the requests' ids.
	orderSync
	// orderHints: only the webhook hints, fetched by id (no window, no cursor move).
	orderHints
)

// step says what is due: a sync when a sync-now waits or the next run's time has
// come, else the hints when some wait, while the channel is ok.
func (w *orderSyncLoop) step(now time.Time) orderStep {
	due := w.ok() && (w.st.NextRunAt == nil || !now.Before(*w.st.NextRunAt))
	switch {
	case w.syncNow.waiting() || due:
		return orderSync
	case w.ok() && len(w.st.Hints) > 0:
		return orderHints
	}
	return orderNothing
}

func (w *orderSyncLoop) ok() bool { return w.st.State == channel.StateOK }

func (w *orderSyncLoop) addHint(id int64) {
	if id > 0 && !slices.Contains(w.st.Hints, id) && len(w.st.Hints) < maxPendingHints {
		w.st.Hints = append(w.st.Hints, id)
	}
}

// refresh re-reads the channel's state and interval from the hub (no EKM call).
// A channel that becomes ok syncs at once; a new interval moves the next run. A
// channel that is gone ends the loop.
func (w *orderSyncLoop) refresh(ctx workflow.Context) (loopNext, error) {
	cfg, err := execute[contract.OrderLoopConfig](ctx, orderConfigOptions, contract.OrderSyncConfig, w.st.Channel)
	if contract.IsType(err, contract.ErrTypeChannelGone) {
		return nextEnd, nil
	}
	if err != nil {
		// The hub is unreachable: keep the state we had and try at the next wake or poll.
		w.st.LastError = "reading the channel: " + err.Error()
		return nextGoOn, nil
	}
	wasOK := w.ok()
	w.st.State, w.st.Reason = cfg.Status.State, cfg.Status.Reason
	w.publish(ctx)
	if cfg.Interval > 0 && cfg.Interval != w.st.Interval {
		w.st.Interval = cfg.Interval
		if w.st.LastRunAt != nil {
			next := w.st.LastRunAt.Add(cfg.Interval)
			w.st.NextRunAt = &next
		}
	}
	if w.ok() && !wasOK {
		w.st.NextRunAt = nil // resumed: sync now
	}
	return nextGoOn, nil
}

// syncWindow is a full sync (§2 "Sync window and cursor"): the window from the
// sync date, with the pending hints and the ids the queued sync-now requests
// name. It answers those requests with what it did and schedules the next run;
// after a failed sync the hints (and ids) wait for the next fetch. A channel that is gone
// ends the loop.
func (w *orderSyncLoop) syncWindow(ctx workflow.Context) loopNext {
	served := w.syncNow.upTo()
	hints := w.takeHints()
	for _, r := range w.syncNow.pending {
		hints = append(hints, r.in.OrderIDs...)
	}
	res, outcome, failed := w.syncOrders(ctx, contract.SyncOrdersInput{Channel: w.st.Channel, Hints: hints}, false)
	switch outcome {
	case syncGone:
		return nextEnd
	case synced:
		w.st.Totals.Syncs++
		w.st.LastResult = &res
		now := workflow.Now(ctx)
		w.st.LastRunAt = &now
		w.scheduleNext(now)
	case syncFailed:
		w.requeue(hints)
		w.scheduleNext(workflow.Now(ctx))
	}
	w.syncNow.answer(served, res, failed)
	return nextGoOn
}

// fetchHints fetches only the webhook hints, by id (§2: webhooks are only
// hints), with no window and no cursor move. After a failed fetch the hints are
// dropped rather than retried in a loop: the window sync, with its overlap and
// last_updated pass, reads those orders anyway. A channel that is gone ends the
// loop.
func (w *orderSyncLoop) fetchHints(ctx workflow.Context) loopNext {
	hints := w.takeHints()
	local := workflow.GetVersion(ctx, orderHintsLocal, workflow.DefaultVersion, 1) == 1
	if local && len(hints) > maxLocalHints {
		// A local fetch stays short: the rest wait for the next iteration, at once.
		w.requeue(hints[maxLocalHints:])
		hints = hints[:maxLocalHints]
	}
	res, outcome, _ := w.syncOrders(ctx, contract.SyncOrdersInput{Channel: w.st.Channel, Hints: hints, HintsOnly: true}, local)
	if outcome == syncGone {
		return nextEnd
	}
	if outcome == synced {
		w.st.Totals.HintFetches++
		w.st.LastHints = &res
	}
	// After syncFailed the hints are dropped, not re-queued (see above).
	return nextGoOn
}

// syncOutcome is how a SyncOrders activity ended, for its caller to act on.
type syncOutcome int

const (
	// synced: the activity ran; its result is counted.
	synced syncOutcome = iota
	// syncHeld: nothing ran, and the hints wait for the next run: the channel is
	// not ok (the activity found it so, or EKM refused it), or the sync was
	// stopped to keep the history bounded.
	syncHeld
	// syncFailed: the activity failed.
	syncFailed
	// syncGone: the channel was removed.
	syncGone
)

// orderHintsLocal is the change after which a fetch of the hints alone runs as a
// local activity (orderHintOptions), of at most maxLocalHints orders; a history
// recorded before it replays with the activity it scheduled, of every hint.
const orderHintsLocal = "order-hints-local-activity"

// maxLocalHints bounds the orders one local fetch asks for, so that it stays a
// few seconds even from an empty bucket at EKM's 2 requests a second (a search
// by ids and each order's items); more hints wait for the loop's next turn.
const maxLocalHints = 10

// syncOrders runs one SyncOrders activity (a local one when local,
// orderHintOptions) and takes in its outcome: the
// channel's state, the sync date, the totals, the last error. Hints it held
// back go back to the pending ones. Near the history's limit it stops the
// activity and answers every waiting sync-now, so that the loop can continue as
// new. failed is what the sync-now requests the run serves are answered with.
func (w *orderSyncLoop) syncOrders(ctx workflow.Context, in contract.SyncOrdersInput, local bool) (res contract.SyncOrdersResult, outcome syncOutcome, failed error) {
	w.st.Phase = contract.PhaseSyncing
	actx, stop := workflow.WithCancel(workflow.WithActivityOptions(ctx, orderSyncOptions))
	defer stop()
	var fut workflow.Future
	if local {
		fut = workflow.ExecuteLocalActivity(workflow.WithLocalActivityOptions(actx, orderHintOptions), contract.SyncOrders, in)
	} else {
		fut = workflow.ExecuteActivity(actx, contract.SyncOrders, in)
	}
	// Signals may flood in while a long sync runs: near the history's limit the
	// sync is stopped (it resumes from its last committed page in the next run)
	// and the loop continues as new, instead of being terminated by Temporal.
	_ = workflow.Await(ctx, func() bool { return fut.IsReady() || historyNearLimit(ctx) })
	interrupted := !fut.IsReady()
	if interrupted {
		stop()
	}
	err := fut.Get(ctx, &res)
	failure := "" // why the run failed, for the sync-now requests it serves
	switch {
	case interrupted:
		w.st.LastError = "a sync was stopped to keep the loop's history bounded (a flood of signals); the next run syncs again"
		failure, outcome = w.st.LastError, syncHeld
	case contract.IsType(err, contract.ErrTypeChannelGone):
		return res, syncGone, nil
	case contract.IsType(err, contract.ErrTypeNeedsReauth):
		w.st.State, w.st.Reason = channel.StateNeedsReauth, "EKM refused the channel's authorisation: run 'starter channel reauthorise "+w.st.Channel+"'"
		w.publish(ctx)
		failure, outcome = w.st.Reason, syncHeld
	case contract.IsType(err, contract.ErrTypeDisabled):
		w.st.State, w.st.Reason = channel.StateDisabled, "channel is disabled"
		w.publish(ctx)
		failure, outcome = w.st.Reason, syncHeld
	case err != nil:
		w.st.LastError = err.Error()
		w.st.Totals.Failures++
		failure, outcome = err.Error(), syncFailed
	default:
		w.st.State, w.st.Reason = res.Status.State, res.Status.Reason
		w.publish(ctx)
		w.count(res)
		outcome = syncHeld
		if res.Ran {
			w.st.LastError = ""
			outcome = synced
		}
		if res.SyncDate != nil {
			w.st.SyncDate = res.SyncDate
		}
		w.publish(ctx)
	}
	if outcome == syncHeld {
		w.requeue(in.Hints)
	}
	if failure != "" {
		failed = temporal.NewApplicationError("order sync failed: "+failure, contract.ErrTypeSyncFailed)
	}
	if interrupted {
		w.syncNow.answer(w.syncNow.upTo(), res, failed)
	}
	return res, outcome, failed
}

// takeHints takes the pending hints for a run.
func (w *orderSyncLoop) takeHints() []int64 {
	hints := w.st.Hints
	w.st.Hints = nil
	return hints
}

// requeue puts hints a run did not fetch back with the pending ones.
func (w *orderSyncLoop) requeue(hints []int64) {
	for _, id := range hints {
		w.addHint(id)
	}
}

func (w *orderSyncLoop) scheduleNext(now time.Time) {
	interval := w.st.Interval
	if interval <= 0 {
		interval = channel.Defaults().OrderSyncInterval
	}
	next := now.Add(interval)
	w.st.NextRunAt = &next
}

// count takes in a SyncOrders result: the channel's interval it reports and,
// when it ran, what it did. Its caller counts the sync or the hint fetch.
func (w *orderSyncLoop) count(res contract.SyncOrdersResult) {
	if res.Interval > 0 {
		w.st.Interval = res.Interval
	}
	if !res.Ran {
		return
	}
	t := &w.st.Totals
	t.New += res.New
	t.Updated += res.Updated
	t.Skipped += res.Skipped
	t.Quarantined += res.Quarantined
	t.Requests += res.Requests
}

// publish sets, from the state, the search attributes that changed since this
// run last set them: the channel's state and the Order Sync Date.
func (w *orderSyncLoop) publish(ctx workflow.Context) {
	var updates []temporal.SearchAttributeUpdate
	if w.st.State != w.shown.state {
		updates = append(updates, SAChannelState.ValueSet(string(w.st.State)))
		w.shown.state = w.st.State
	}
	if d := w.st.SyncDate; d != nil && (w.shown.syncDate == nil || !d.Equal(*w.shown.syncDate)) {
		updates = append(updates, SAOrderSyncDate.ValueSet(*d))
		w.shown.syncDate = d
	}
	if len(updates) > 0 {
		_ = workflow.UpsertTypedSearchAttributes(ctx, updates...)
	}
}

// continueAsNew is the loop's one safe point: once every Update handler has
// finished, it hands the state, with the signals that arrived meanwhile, to a
// new run.
func (w *orderSyncLoop) continueAsNew(ctx workflow.Context) error {
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return err
	}
	for {
		var h OrderHint
		if !w.hintCh.ReceiveAsync(&h) {
			break
		}
		w.addHint(h.OrderID)
	}
	for w.wakeCh.ReceiveAsync(nil) {
		w.st.Woken = true
	}
	w.st.Totals.Continuances++
	return workflow.NewContinueAsNewError(ctx, OrderSyncWorkflow, w.st)
}
