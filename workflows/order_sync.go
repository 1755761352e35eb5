package workflows

import (
	"encoding/json"
	"errors"
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/contract"
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

// OrderSyncInput is the input of OrderSync. It accepts ChannelInput's JSON (the
// starter passes only the channel); Carry holds what a run hands to the next one
// when it continues as new.
type OrderSyncInput struct {
	Channel string          `json:"channel"`
	Carry   *OrderSyncCarry `json:"carry,omitempty"`
}

// OrderSyncCarry is the loop's state carried across continue-as-new.
type OrderSyncCarry struct {
	State      channel.Status             `json:"state"`
	Interval   time.Duration              `json:"interval"`
	Hints      []int64                    `json:"hints,omitempty"`
	Wake       bool                       `json:"wake,omitempty"`
	LastRunAt  *time.Time                 `json:"last_run_at,omitempty"`
	NextRunAt  *time.Time                 `json:"next_run_at,omitempty"`
	SyncDate   *time.Time                 `json:"order_sync_date,omitempty"` // also read as sync_date (UnmarshalJSON)
	LastResult *contract.SyncOrdersResult `json:"last_result,omitempty"`
	LastHints  *contract.SyncOrdersResult `json:"last_hints,omitempty"`
	LastError  string                     `json:"last_error,omitempty"`
	Totals     OrderSyncTotals            `json:"totals"`
}

// UnmarshalJSON reads a carry, accepting the Order Sync Date under its former
// name sync_date too: carries recorded in histories before the rename still
// decode.
func (c *OrderSyncCarry) UnmarshalJSON(b []byte) error {
	type plain OrderSyncCarry
	var v struct {
		plain
		Legacy *time.Time `json:"sync_date"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*c = OrderSyncCarry(v.plain)
	if c.SyncDate == nil {
		c.SyncDate = v.Legacy
	}
	return nil
}

// OrderSyncTotals add up what the loop did since it started (across runs).
type OrderSyncTotals struct {
	Syncs        int `json:"syncs"`
	HintFetches  int `json:"hint_fetches"`
	Failures     int `json:"failures"`
	New          int `json:"new"`
	Updated      int `json:"updated"`
	Skipped      int `json:"skipped"`
	Quarantined  int `json:"quarantined"`
	Requests     int `json:"requests"`
	Continuances int `json:"continuances"`
}

// OrderSyncStatus is the answer to the status query.
type OrderSyncStatus struct {
	Channel      string                     `json:"channel"`
	State        channel.State              `json:"state"`
	Reason       string                     `json:"reason,omitempty"`
	Phase        string                     `json:"phase"` // syncing, waiting or idle
	SyncDate     *time.Time                 `json:"order_sync_date,omitempty"`
	LastRunAt    *time.Time                 `json:"last_run_at,omitempty"`
	NextRunAt    *time.Time                 `json:"next_run_at,omitempty"`
	Interval     time.Duration              `json:"interval"`
	LastResult   *contract.SyncOrdersResult `json:"last_result,omitempty"`
	LastHints    *contract.SyncOrdersResult `json:"last_hints,omitempty"`
	LastError    string                     `json:"last_error,omitempty"`
	PendingHints int                        `json:"pending_hints"`
	QueuedSyncs  int                        `json:"queued_syncs"`
	Totals       OrderSyncTotals            `json:"totals"`
}

// SyncNowInput is the argument of the sync-now Update: optionally, orders to
// fetch by id besides the sync.
type SyncNowInput struct {
	OrderIDs []int64 `json:"order_ids,omitempty"`
}

// Phases of the loop, for the status query.
const (
	PhaseSyncing = "syncing"
	PhaseWaiting = "waiting"
	PhaseIdle    = "idle"
)

// OrderSync is a channel's order-sync loop (docs/channel-semantics.md §2): it syncs
// every order-sync interval, at once on the sync-now Update (which answers with
// what the sync did), and fetches an order by id on each order-hint signal from
// the webhook receiver. While the channel is disabled, unauthorised or
// misconfigured it idles and says why, never failing. It continues as new to
// keep its history bounded.
func OrderSync(ctx workflow.Context, in OrderSyncInput) error {
	if in.Channel == "" {
		return temporal.NewNonRetryableApplicationError("OrderSync needs a channel name", contract.ErrTypeBadInput, nil)
	}
	w := &orderSyncImpl{channel: in.Channel}
	if in.Carry != nil {
		w.carry = *in.Carry
	}
	w.hints = slices.Clone(w.carry.Hints)
	w.wake = w.carry.Wake
	w.carry.Hints, w.carry.Wake = nil, false
	if err := w.setup(ctx); err != nil {
		return err
	}
	return w.run(ctx)
}

type orderSyncImpl struct {
	channel string
	carry   OrderSyncCarry
	phase   string
	hints   []int64
	wake    bool
	// syncNow serves the sync-now Update: a request waits until a sync that
	// started after it ends.
	syncNow runNow[SyncNowInput, contract.SyncOrdersResult]

	hintCh workflow.ReceiveChannel
	wakeCh workflow.ReceiveChannel
	saved  struct {
		state    channel.State
		syncDate *time.Time
	}
}

func (w *orderSyncImpl) setup(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QueryStatus, func() (OrderSyncStatus, error) { return w.status(), nil }); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateSyncNow, w.syncNow.ask, workflow.UpdateHandlerOptions{
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
			w.wake = true
		}
	})
	return nil
}

func (w *orderSyncImpl) addHint(id int64) {
	if id > 0 && !slices.Contains(w.hints, id) && len(w.hints) < maxPendingHints {
		w.hints = append(w.hints, id)
	}
}

func (w *orderSyncImpl) ok() bool { return w.carry.State.State == channel.StateOK }

func (w *orderSyncImpl) run(ctx workflow.Context) error {
	if w.carry.State.State == "" {
		if next, err := w.refresh(ctx); next == nextEnd || err != nil {
			return err
		}
	}
	for i := 0; ; i++ {
		if step := w.step(workflow.Now(ctx)); step != orderNothing {
			if w.sync(ctx, step) == nextEnd {
				return nil
			}
		}
		if (i >= maxIterations || historyFull(ctx)) && !w.syncNow.waiting() {
			return w.continueAsNew(ctx)
		}
		w.phase = PhaseWaiting
		wait := idlePoll
		if !w.ok() {
			w.phase = PhaseIdle
		} else if w.carry.NextRunAt != nil {
			wait = max(w.carry.NextRunAt.Sub(workflow.Now(ctx)), 0)
		}
		setDetails(ctx, orderSyncDetails(w.status()))
		// A full history ends the wait too, so that a flood of signals to an idle
		// loop continues it as new instead of growing its history to the limit.
		woken, err := awaitOrTimeout(ctx, wait, func() bool {
			return w.wake || w.syncNow.waiting() || (w.ok() && len(w.hints) > 0) || historyFull(ctx)
		})
		if err != nil {
			return err
		}
		if w.wake || (!woken && !w.ok()) {
			w.wake = false
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
func (w *orderSyncImpl) step(now time.Time) orderStep {
	due := w.ok() && (w.carry.NextRunAt == nil || !now.Before(*w.carry.NextRunAt))
	switch {
	case w.syncNow.waiting() || due:
		return orderSync
	case w.ok() && len(w.hints) > 0:
		return orderHints
	}
	return orderNothing
}

// refresh re-reads the channel's state and interval from the hub (no EKM call).
// A channel that becomes ok syncs at once; a new interval moves the next run. A
// channel that is gone ends the loop.
func (w *orderSyncImpl) refresh(ctx workflow.Context) (loopNext, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: 30 * time.Second, MaximumAttempts: 5},
	})
	var cfg contract.OrderLoopConfig
	err := workflow.ExecuteActivity(ctx, contract.OrderSyncConfig, w.channel).Get(ctx, &cfg)
	if contract.IsType(err, contract.ErrTypeChannelGone) {
		return nextEnd, nil
	}
	if err != nil {
		// The hub is unreachable: keep the state we had and try at the next wake or poll.
		w.carry.LastError = "reading the channel: " + err.Error()
		return nextGoOn, nil
	}
	wasOK := w.ok()
	w.setState(ctx, cfg.Status)
	if cfg.Interval > 0 && cfg.Interval != w.carry.Interval {
		w.carry.Interval = cfg.Interval
		if w.carry.LastRunAt != nil {
			next := w.carry.LastRunAt.Add(cfg.Interval)
			w.carry.NextRunAt = &next
		}
	}
	if w.ok() && !wasOK {
		w.carry.NextRunAt = nil // resumed: sync now
	}
	return nextGoOn, nil
}

// sync runs one SyncOrders activity: a full sync (orderSync) with the pending
// hints and the queued requests' ids, or just the hints (orderHints). It answers
// the requests queued before it started; a channel that is gone ends the loop.
func (w *orderSyncImpl) sync(ctx workflow.Context, step orderStep) loopNext {
	hintsOnly := step == orderHints
	w.phase = PhaseSyncing
	hints := w.hints
	w.hints = nil
	served := w.syncNow.upTo()
	if !hintsOnly {
		for _, r := range w.syncNow.pending {
			hints = append(hints, r.in.OrderIDs...)
		}
	}
	// The activity heartbeats on every request and page, so a lost worker is
	// detected within the heartbeat timeout; the retries resume from the last
	// committed page and stay frequent, since a crash is no reason to slow down.
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 2 * time.Hour,
		HeartbeatTimeout:    10 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2,
			MaximumInterval: 15 * time.Second, MaximumAttempts: 10},
		// A sync stopped for the history's sake has ended before the loop goes on,
		// so that two syncs of the channel never run at once.
		WaitForCancellation: true,
	})
	actx, stop := workflow.WithCancel(actx)
	defer stop()
	var res contract.SyncOrdersResult
	fut := workflow.ExecuteActivity(actx, contract.SyncOrders,
		contract.SyncOrdersInput{Channel: w.channel, Hints: hints, HintsOnly: hintsOnly})
	// Signals may flood in while a long sync runs: near the history's limit the
	// sync is stopped (it resumes from its last committed page in the next run)
	// and the loop continues as new, instead of being terminated by Temporal.
	_ = workflow.Await(ctx, func() bool { return fut.IsReady() || historyNearLimit(ctx) })
	interrupted := !fut.IsReady()
	if interrupted {
		stop()
	}
	err := fut.Get(ctx, &res)
	now := workflow.Now(ctx)
	failure := "" // why the sync-now requests it serves failed
	switch {
	case interrupted:
		w.carry.LastError = "a sync was stopped to keep the loop's history bounded (a flood of signals); the next run syncs again"
		failure = w.carry.LastError
		served = w.syncNow.upTo() // every waiting sync-now is answered, so the loop can continue as new
	case contract.IsType(err, contract.ErrTypeChannelGone):
		return nextEnd
	case contract.IsType(err, contract.ErrTypeNeedsReauth):
		w.setState(ctx, channel.Status{State: channel.StateNeedsReauth, Reason: "EKM refused the channel's authorisation: run 'starter channel reauthorise " + w.channel + "'"})
		failure = w.carry.State.Reason
	case contract.IsType(err, contract.ErrTypeDisabled):
		w.setState(ctx, channel.Status{State: channel.StateDisabled, Reason: "channel is disabled"})
		failure = w.carry.State.Reason
	case err != nil:
		w.carry.LastError = err.Error()
		w.carry.Totals.Failures++
		failure = err.Error()
		if !hintsOnly {
			w.scheduleNext(now)
		}
	default:
		w.setState(ctx, res.Status)
		w.count(res, hintsOnly)
		if res.Ran {
			w.carry.LastError = ""
		}
		if res.SyncDate != nil {
			w.carry.SyncDate = res.SyncDate
		}
		if !hintsOnly && res.Ran {
			w.carry.LastRunAt = &now
			w.scheduleNext(now)
		}
		w.saveAttributes(ctx)
	}
	// Hints wait while the channel is not ok, and after a failed sync for the next
	// fetch; after a failed fetch of only hints they are dropped rather than
	// retried in a loop: the window sync, with its overlap and last_updated pass,
	// reads those orders anyway.
	if interrupted || (err != nil && !hintsOnly) || (err == nil && !res.Ran) || contract.IsType(err, contract.ErrTypeNeedsReauth) ||
		contract.IsType(err, contract.ErrTypeDisabled) {
		for _, id := range hints {
			w.addHint(id)
		}
	}
	if !hintsOnly || interrupted {
		var failed error
		if failure != "" {
			failed = temporal.NewApplicationError("order sync failed: "+failure, contract.ErrTypeSyncFailed)
		}
		w.syncNow.answer(served, res, failed)
	}
	return nextGoOn
}

func (w *orderSyncImpl) scheduleNext(now time.Time) {
	interval := w.carry.Interval
	if interval <= 0 {
		interval = channel.Defaults().OrderSyncInterval
	}
	next := now.Add(interval)
	w.carry.NextRunAt = &next
}

func (w *orderSyncImpl) count(res contract.SyncOrdersResult, hintsOnly bool) {
	if res.Interval > 0 {
		w.carry.Interval = res.Interval
	}
	if !res.Ran {
		return
	}
	t := &w.carry.Totals
	if hintsOnly {
		t.HintFetches++
		w.carry.LastHints = &res
	} else {
		t.Syncs++
		w.carry.LastResult = &res
	}
	t.New += res.New
	t.Updated += res.Updated
	t.Skipped += res.Skipped
	t.Quarantined += res.Quarantined
	t.Requests += res.Requests
}

// setState records the channel's state and publishes it as a search attribute.
func (w *orderSyncImpl) setState(ctx workflow.Context, st channel.Status) {
	w.carry.State = st
	w.saveAttributes(ctx)
}

// saveAttributes upserts the search attributes that changed.
func (w *orderSyncImpl) saveAttributes(ctx workflow.Context) {
	var updates []temporal.SearchAttributeUpdate
	if w.carry.State.State != w.saved.state {
		updates = append(updates, SAChannelState.ValueSet(string(w.carry.State.State)))
		w.saved.state = w.carry.State.State
	}
	if d := w.carry.SyncDate; d != nil && (w.saved.syncDate == nil || !d.Equal(*w.saved.syncDate)) {
		updates = append(updates, SAOrderSyncDate.ValueSet(*d))
		w.saved.syncDate = d
	}
	if len(updates) > 0 {
		_ = workflow.UpsertTypedSearchAttributes(ctx, updates...)
	}
}

func (w *orderSyncImpl) status() OrderSyncStatus {
	return OrderSyncStatus{
		Channel: w.channel, State: w.carry.State.State, Reason: w.carry.State.Reason, Phase: w.phase,
		SyncDate: w.carry.SyncDate, LastRunAt: w.carry.LastRunAt, NextRunAt: w.carry.NextRunAt, Interval: w.carry.Interval,
		LastResult: w.carry.LastResult, LastHints: w.carry.LastHints, LastError: w.carry.LastError,
		PendingHints: len(w.hints), QueuedSyncs: len(w.syncNow.pending), Totals: w.carry.Totals,
	}
}

// continueAsNew hands the loop's state to a new run once every Update handler has
// finished, taking the signals that arrived meanwhile along.
func (w *orderSyncImpl) continueAsNew(ctx workflow.Context) error {
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
		w.wake = true
	}
	carry := w.carry
	carry.Hints, carry.Wake = slices.Clone(w.hints), w.wake
	carry.Totals.Continuances++
	return workflow.NewContinueAsNewError(ctx, OrderSyncWorkflow, OrderSyncInput{Channel: w.channel, Carry: &carry})
}
