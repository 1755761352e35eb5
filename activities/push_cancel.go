package activities

import (
	"context"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/ekm"
	"github.com/ekmsync/ekmsync/internal/store"
)

// PushCancellations sends the channel's cancellations (§1 Cancellation notes):
// an order the hub cancelled in full gets the status mapped to Cancelled, unless
// EKM already shows one; a partial cancellation is recorded as "not sent: partial",
// since EKM has no line cancel. Full cancellations are held with the reason while
// Cancellation Notes is off or no status maps to Cancelled.
func (a *Activities) PushCancellations(ctx context.Context, in PushInput) (StepResult, error) {
	defer keepAlive(ctx, nil)()
	s, err := a.settings(ctx, in.Channel)
	if err != nil {
		return StepResult{}, err
	}
	// What needs no call to EKM is recorded first, whatever the settings.
	res, err := a.eachOrder(ctx, s, store.OtherCancellations, nil, func(ctx context.Context, w store.OrderWork, _ *ekm.Order) (string, error) {
		return a.recordNotSent(ctx, s, w)
	})
	if err != nil || res.More {
		return res, err
	}
	var full StepResult
	if s.Shadow && s.CancellationHold() == "" {
		full, err = a.shadowOrders(ctx, s, store.FullCancellations, store.PlanCancellation, planCancel)
		res.Add(full)
		return res, err
	}
	if err := a.planned(ctx, s, store.PlanCancellation); err != nil {
		return res, err
	}
	if hold := s.CancellationHold(); hold != "" {
		full, err = a.holdOrders(ctx, s, store.FullCancellations, "ekm.cancellation.held", hold)
	} else {
		var c *ekm.Client
		var pctx context.Context
		if c, pctx, err = a.pushClient(ctx, s, ekm.PriorityOrders); err != nil {
			return res, err
		}
		full, err = a.eachOrder(pctx, s, store.FullCancellations, c, func(ctx context.Context, w store.OrderWork, shown *ekm.Order) (string, error) {
			return a.cancel(ctx, c, s, w, shown)
		})
	}
	res.Add(full)
	return res, err
}

// recordNotSent closes a cancellation record that is not a full hub cancellation.
func (a *Activities) recordNotSent(ctx context.Context, s channel.Settings, w store.OrderWork) (string, error) {
	outcome := store.OutcomeNothingCancelled
	switch {
	case w.Status == "cancelled": // by the channel: EKM shows it already
		outcome = store.OutcomeCancelledOnEKM
	case w.PartlyCancelled:
		outcome = store.OutcomePartial
	}
	entry := auditEntry(s, "ekm.cancellation.not-sent", w.OrderNumber, map[string]any{"order_id": w.OrderID, "outcome": outcome})
	return outcome, a.Store.RecordOrderStep(ctx, store.OrderStep{OrderID: w.OrderID, Kind: w.Kind, Outcome: outcome, At: a.now(),
		UnlessFullCancel: outcome != store.OutcomeCancelledOnEKM}, &entry)
}

// cancel makes EKM show one order cancelled. shown is EKM's state of the order as
// read after the row was claimed, or nil: then it is read here.
func (a *Activities) cancel(ctx context.Context, c *ekm.Client, s channel.Settings, w store.OrderWork, shown *ekm.Order) (string, error) {
	rec := func(outcome, action string, detail map[string]any) error {
		detail["order_id"], detail["ekm_order_id"] = w.OrderID, w.EKMOrderID
		entry := auditEntry(s, action, w.OrderNumber, detail)
		return a.Store.RecordOrderStep(context.WithoutCancel(ctx), store.OrderStep{OrderID: w.OrderID, Kind: w.Kind, Step: store.StepStatus, Outcome: outcome, At: a.now()}, &entry)
	}
	order, err := shownOrder(ctx, c, w, shown)
	if err != nil {
		return "", err
	}
	if s.Mapping.Target(order.Status) == channel.Cancelled {
		return store.OutcomeAlreadyOnEKM, rec(store.OutcomeAlreadyOnEKM, "ekm.cancellation.already", map[string]any{"ekm_status": order.Status})
	}
	status, _ := s.Mapping.StatusFor(channel.Cancelled) // CancellationHold checked there is one
	// The customer is e-mailed only when the channel says so (email-on-cancellation,
	// off by default: a cancellation usually comes with the merchant's own word).
	update := ekm.OrderStatusUpdate{Status: status, EmailCustomer: s.EmailOnCancellation}
	heartbeat(ctx, w.OrderID, "status")
	if err := beforeWrite(ctx); err != nil {
		return "", err
	}
	if order, err = c.UpdateOrderStatus(ctx, w.EKMOrderID, update); err != nil {
		return "", err
	}
	return store.OutcomeSent, rec(store.OutcomeSent, "ekm.cancellation.status", map[string]any{"sent": update, "answer": order.Status})
}
