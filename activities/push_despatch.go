package activities

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/ekm"
	"github.com/ekmsync/ekmsync/internal/store"
)

// PushDespatches sends the channel's despatches (§1 Despatch Notes, §4): for each
// shipped order, EKM's current state first, then the first parcel's tracking, the
// other parcels' tracking in the internal notes, and the status mapped to Shipped.
// Each step is recorded right after EKM confirms it, and a step EKM already shows
// is recorded without a call, so a worker killed between two calls sends each
// exactly once. While Despatch Notes is off or no status maps to Shipped, every
// despatch is held with the reason.
func (a *Activities) PushDespatches(ctx context.Context, in PushInput) (StepResult, error) {
	defer keepAlive(ctx, nil)()
	s, err := a.settings(ctx, in.Channel)
	if err != nil {
		return StepResult{}, err
	}
	if hold := s.DespatchHold(); hold != "" {
		if err := a.planned(ctx, s, store.PlanDespatch); err != nil {
			return StepResult{}, err
		}
		return a.holdOrders(ctx, s, store.Despatches, "ekm.despatch.held", hold)
	}
	if s.Shadow {
		return a.shadowOrders(ctx, s, store.Despatches, store.PlanDespatch, planDespatch)
	}
	if err := a.planned(ctx, s, store.PlanDespatch); err != nil {
		return StepResult{}, err
	}
	c, ctx, err := a.pushClient(ctx, s, ekm.PriorityOrders)
	if err != nil {
		return StepResult{}, err
	}
	// The stock that is to come down to a SKU at or near zero goes out between
	// the step's groups of despatches, and when the pass ends here with
	// despatches left: a busy day's despatch backlog does not hold back its
	// oversells for longer than a group.
	urgentSent := 0
	sendUrgent := func(ctx context.Context) error {
		urgent, err := a.urgentStock(ctx, s)
		urgentSent += urgent.Sent
		return err
	}
	res, err := a.eachOrderThen(ctx, s, store.Despatches, c, func(ctx context.Context, w store.OrderWork, shown *ekm.Order) (string, error) {
		return a.despatch(ctx, c, s, w, shown)
	}, sendUrgent)
	if err == nil && res.More {
		err = sendUrgent(ctx)
	}
	res.UrgentStock = urgentSent
	return res, err
}

// holdOrders holds the open work of a set with reason, auditing the rows newly held.
func (a *Activities) holdOrders(ctx context.Context, s channel.Settings, set store.WorkSet, action, reason string) (StepResult, error) {
	newly, total, err := a.Store.HoldOrderWork(ctx, s.ID, set, reason)
	if err != nil {
		return StepResult{}, err
	}
	for _, h := range newly {
		if err := a.Store.Audit(ctx, auditEntry(s, action, h.OrderNumber, map[string]any{"order_id": h.OrderID, "reason": reason})); err != nil {
			return StepResult{}, err
		}
	}
	return StepResult{Held: total, HeldReason: reason}, nil
}

// failOrder records a failed attempt on the order's row, with a backoff when EKM
// rejected it, and audits it.
func (a *Activities) failOrder(ctx context.Context, s channel.Settings, w store.OrderWork, err error, backoff bool) error {
	msg := reason(err)
	var retryAfter *time.Time
	if backoff {
		t := a.now().Add(rejectBackoff(w.Attempts + 1)) // w.Attempts is from before this attempt
		retryAfter = &t
	}
	entry := auditEntry(s, "ekm."+w.Kind+".failed", w.OrderNumber, map[string]any{"order_id": w.OrderID, "error": msg})
	return a.Store.FailOrderWork(context.WithoutCancel(ctx), w.OrderID, w.Kind, msg, retryAfter, &entry)
}

// despatch makes EKM show one order dispatched. shown is EKM's state of the order
// as read after the row was claimed (eachOrder), or nil: then it is read here.
func (a *Activities) despatch(ctx context.Context, c *ekm.Client, s channel.Settings, w store.OrderWork, shown *ekm.Order) (string, error) {
	rec := func(step store.Step, outcome, action string, detail map[string]any) error {
		detail["order_id"], detail["ekm_order_id"] = w.OrderID, w.EKMOrderID
		entry := auditEntry(s, action, w.OrderNumber, detail)
		return a.Store.RecordOrderStep(context.WithoutCancel(ctx), store.OrderStep{OrderID: w.OrderID, Kind: w.Kind, Step: step, Outcome: outcome, At: a.now()}, &entry)
	}
	if w.ShippedOnChannel && !w.TrackingConfirmed && !w.NotesConfirmed {
		// The order sync found it fulfilled on EKM before we sent anything:
		// nothing to send. (Once a step is sent, EKM's state decides below.)
		return store.OutcomeShippedOnChannel, rec("", store.OutcomeShippedOnChannel, "ekm.despatch.skipped", map[string]any{"reason": "shipped on the channel"})
	}
	order, err := shownOrder(ctx, c, w, shown)
	if err != nil {
		return "", err
	}
	if s.Mapping.Target(order.Status) == channel.Shipped {
		// EKM shows it dispatched: by us before a crash (then the tracking went
		// first), or by someone else. Either way no second call, so the
		// customer is not e-mailed twice.
		outcome := store.OutcomeAlreadyOnEKM
		if w.TrackingConfirmed || w.NotesConfirmed {
			outcome = store.OutcomeSent
		}
		return outcome, rec(store.StepStatus, outcome, "ekm.despatch.already", map[string]any{"ekm_status": order.Status})
	}
	first, others := splitParcels(w.Parcels)
	if first != nil && !w.TrackingConfirmed {
		want := ekm.DeliveryTracking{Number: first.TrackingNumber, Company: first.Carrier, URL: first.TrackingURL}
		onEKM := ekm.DeliveryTracking{Number: order.DeliveryTrackingNumber, Company: order.DeliveryTrackingCompany, URL: order.DeliveryTrackingURL}
		if onEKM == want {
			if err := rec(store.StepTracking, "", "ekm.despatch.tracking", map[string]any{"sent": nil, "already": want}); err != nil {
				return "", err
			}
		} else {
			heartbeat(ctx, w.OrderID, "tracking")
			if err := beforeWrite(ctx); err != nil {
				return "", err
			}
			if order, err = c.UpdateDeliveryTracking(ctx, w.EKMOrderID, want); err != nil {
				return "", err
			}
			if err := rec(store.StepTracking, "", "ekm.despatch.tracking", map[string]any{"sent": want,
				"answer": map[string]any{"delivery_tracking_number": order.DeliveryTrackingNumber, "delivery_tracking_company": order.DeliveryTrackingCompany}}); err != nil {
				return "", err
			}
		}
	}
	if block := parcelNotes(others); block != "" && !w.NotesConfirmed {
		if strings.Contains(order.InternalNotes, block) {
			if err := rec(store.StepNotes, "", "ekm.despatch.notes", map[string]any{"sent": nil, "already": block}); err != nil {
				return "", err
			}
		} else {
			notes := strings.TrimSpace(order.InternalNotes + "\n\n" + block)
			heartbeat(ctx, w.OrderID, "notes")
			if err := beforeWrite(ctx); err != nil {
				return "", err
			}
			if order, err = c.UpdateInternalNotes(ctx, w.EKMOrderID, notes); err != nil {
				return "", err
			}
			if err := rec(store.StepNotes, "", "ekm.despatch.notes", map[string]any{"sent": notes, "answer": order.InternalNotes}); err != nil {
				return "", err
			}
		}
	}
	status, _ := s.Mapping.StatusFor(channel.Shipped) // DespatchHold checked there is one
	// The dispatch e-mail goes to the customer with this call, tracking included,
	// when the channel says so (email-on-despatch).
	update := ekm.OrderStatusUpdate{Status: status, EmailCustomer: s.EmailOnDespatch}
	heartbeat(ctx, w.OrderID, "status")
	if err := beforeWrite(ctx); err != nil {
		return "", err
	}
	if order, err = c.UpdateOrderStatus(ctx, w.EKMOrderID, update); err != nil {
		return "", err
	}
	return store.OutcomeSent, rec(store.StepStatus, store.OutcomeSent, "ekm.despatch.status", map[string]any{"sent": update, "answer": order.Status})
}

// splitParcels returns the first parcel with a tracking number, whose tracking EKM
// keeps, and the other parcels with one, which go into the internal notes.
func splitParcels(ps []store.Parcel) (*store.Parcel, []store.Parcel) {
	var first *store.Parcel
	var others []store.Parcel
	for i, p := range ps {
		switch {
		case p.TrackingNumber == "":
		case first == nil:
			first = &ps[i]
		default:
			others = append(others, p)
		}
	}
	return first, others
}

// parcelNotes is the internal-notes block that lists the other parcels' tracking.
// It is fixed text for given parcels, so the push can tell whether EKM's notes
// already hold it.
func parcelNotes(ps []store.Parcel) string {
	if len(ps) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("Further parcels (ekmsync):")
	for _, p := range ps {
		line := strings.Join(strings.Fields(fmt.Sprintf("Parcel %d: %s %s %s", p.Parcel, p.Carrier, p.TrackingNumber, p.TrackingURL)), " ")
		b.WriteString("\n" + line)
	}
	return b.String()
}
