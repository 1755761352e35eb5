package activities

import (
	"context"
	"errors"
	"time"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/ekm"
	"github.com/ekmsync/ekmsync/internal/shop"
	"github.com/ekmsync/ekmsync/internal/store"
)

// The outbound push (docs/channel-semantics.md §1, §3, §4): four activities, run by the
// ChannelPush workflow in priority order, each computing "what the hub wants EKM to
// show" minus "what EKM last confirmed" from PostgreSQL, so that a crash or a retry
// never sends a stale value nor sends one twice. Each does a bounded amount of work
// (pushBatchTime) and says whether more is left, so that a despatch never waits
// behind a long stock push for more than one batch.

// pushActor is the audit log's actor for every send to EKM.
const pushActor = "ekmsync"

// pushBatchTime bounds one call of a push activity: it starts no new send after
// this, and reports More when work is left.
const pushBatchTime = 5 * time.Second

// orderBatch bounds how many ledger rows one call reads.
const orderBatch = 50

// stockConcurrency is how many stock sends run at once: enough to keep the rate
// budget busy when EKM answers slowly, few enough to leave the budget to orders.
const stockConcurrency = 4

// PushCheck reads the channel's state for the push loop, and whether a pass
// would find anything to do, without calling EKM. A channel whose mapping
// cannot download orders can still push: only disabled and unauthorised
// channels stop it.
func (a *Activities) PushCheck(ctx context.Context, in PushInput) (PushCheckResult, error) {
	s, err := a.settings(ctx, in.Channel)
	if err != nil {
		return PushCheckResult{}, err
	}
	st := s.Status()
	if st.State == channel.StateMisconfigured {
		st = channel.Status{State: channel.StateOK}
	}
	res := PushCheckResult{Status: st, Runnable: st.State == channel.StateOK, Sweep: s.PushSweepInterval}
	if res.Runnable {
		if res.Idle, err = a.Store.PushIdle(ctx, s, a.now()); err != nil {
			return PushCheckResult{}, err
		}
	}
	return res, nil
}

// pushClient returns the channel's EKM client and a context whose calls draw on
// its rate budget at priority p.
func (a *Activities) pushClient(ctx context.Context, s channel.Settings, p ekm.Priority) (*ekm.Client, context.Context, error) {
	// The settings were read at the start of this step: a channel disabled since the
	// pass began sends nothing (and the gate stops any call after that).
	if !s.Enabled {
		return nil, ctx, classify(shop.ErrDisabled)
	}
	if s.AuthState != channel.AuthOK {
		return nil, ctx, classify(shop.ErrNeedsReauth)
	}
	c, err := a.Shop.Client(ctx, s)
	if err != nil {
		return nil, ctx, err
	}
	return c, ekm.WithPriority(ctx, p), nil
}

// rejected reports whether err is EKM's answer about this one item (400, 404,
// 422): it is recorded on the item, which is retried after a backoff, and the
// other items go on (failure says what other failures mean).
func rejected(err error) bool {
	switch ekm.KindOf(err) {
	case ekm.KindBadRequest, ekm.KindNotFound, ekm.KindUnprocessable:
		return true
	}
	return false
}

// rejectBackoff is how long an item EKM rejected waits before it is tried again
// with the same value: 30 s doubling per attempt, at most an hour.
func rejectBackoff(attempts int) time.Duration {
	return min(time.Hour, 30*time.Second<<min(max(attempts-1, 0), 8))
}

// failure decides what a failed send of one item means. A refusal by the gate
// (channel disabled, consent lost) or a cancelled context is not the item's doing:
// nothing is recorded on it, and the call stops. Otherwise the failure is recorded
// on the item and on the channel's error list ('channel show'). When EKM rejected
// the item (backoff true), or answered it with a server error or a cut body, the
// others go on and the item is tried again at a later pass: one order's 502 must
// not hold up every stock level. When EKM cannot be reached or keeps throttling,
// the call stops for Temporal to retry it later.
func (a *Activities) failure(ctx context.Context, s channel.Settings, err error) (record, backoff bool, stop error) {
	if gateError(err) || ctx.Err() != nil {
		return false, false, classify(err)
	}
	_ = a.Store.RecordError(ctx, s.ID, "push", reason(err))
	switch {
	case rejected(err):
		return true, true, nil
	case answeredBadly(err):
		return true, false, nil
	}
	return true, false, classify(err)
}

// answeredBadly reports whether EKM answered a request with a server error or a
// body that could not be read: EKM is up, this request went wrong.
func answeredBadly(err error) bool {
	e := ekm.AsError(err)
	return e != nil && e.Kind == ekm.KindRetryable && e.Status != 0
}

// auditEntry is an audit entry of a send to EKM.
func auditEntry(s channel.Settings, action, subject string, detail map[string]any) store.AuditEntry {
	return store.AuditEntry{ChannelID: s.ID, Channel: s.Name, Actor: pushActor, Action: action, Subject: subject, Detail: detail}
}

// gateError reports whether err comes from the channel's gate or its consent,
// rather than from the item: such failures are not recorded on items.
func gateError(err error) bool {
	c := classify(err)
	return IsType(c, ErrTypeDisabled) || IsType(c, ErrTypeNeedsReauth) || errors.Is(err, shop.ErrShadow) || errors.Is(err, context.Canceled)
}
