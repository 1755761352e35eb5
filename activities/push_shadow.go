package activities

import (
	"context"
	"fmt"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/store"
)

// Shadow mode (docs/channel-semantics.md §4, shadow mode): a channel in shadow runs its push
// as usual up to the point of EKM's write endpoints, and records each write it
// would send in the push plan instead. Nothing of the ledger changes for it, so
// the rows stay pending: once the channel is live, the next pass sends what the
// ledger holds then, through the normal path, once. The plan is computed from
// the ledger alone, without reading EKM: in shadow the pending work stays
// pending, and reading each order or product at every pass would spend the rate
// budget for nothing. A write EKM turns out to show already is recorded without
// a call once live, as always.

// shadowBatch bounds how many order rows of a set one shadow pass plans.
const shadowBatch = 1000

// planned ends a pass of a kind that computes no plan (the channel is live, or
// the kind is held or off): the kind's planned writes are deleted, since the
// ledger, not the plan, says what is sent.
func (a *Activities) planned(ctx context.Context, s channel.Settings, kind string) error {
	return a.Store.ClearPlan(ctx, s.ID, kind)
}

// shadowOrders records the writes the push would send for the open rows of an
// order set, and says how many.
func (a *Activities) shadowOrders(ctx context.Context, s channel.Settings, set store.WorkSet, kind string,
	plan func(channel.Settings, store.OrderWork) []store.PlannedWrite) (StepResult, error) {
	work, err := a.Store.OrderWork(ctx, s.ID, set, a.now(), shadowBatch)
	if err != nil {
		return StepResult{}, err
	}
	var writes []store.PlannedWrite
	for _, w := range work {
		writes = append(writes, plan(s, w)...)
	}
	return StepResult{WouldSend: len(writes)}, a.Store.RecordPlan(ctx, s.ID, s.Name, kind, writes)
}

// planDespatch is what despatch sends for w, leaving out what the ledger says
// EKM confirmed: the first parcel's tracking, the other parcels in the internal
// notes, and the status mapped to Shipped.
func planDespatch(s channel.Settings, w store.OrderWork) []store.PlannedWrite {
	if w.ShippedOnChannel && !w.TrackingConfirmed && !w.NotesConfirmed {
		return nil // recorded as shipped on the channel, without a call
	}
	write := func(endpoint string, values map[string]any, reason string) store.PlannedWrite {
		return store.PlannedWrite{Kind: store.PlanDespatch, Write: endpoint, Target: fmt.Sprintf("order %d", w.EKMOrderID),
			Subject: w.OrderNumber, EKMOrderID: w.EKMOrderID, Values: values, Reason: reason}
	}
	var out []store.PlannedWrite
	first, others := splitParcels(w.Parcels)
	if first != nil && !w.TrackingConfirmed {
		out = append(out, write("order.tracking",
			map[string]any{"delivery_tracking_number": first.TrackingNumber, "delivery_tracking_company": first.Carrier, "delivery_tracking_url": first.TrackingURL},
			fmt.Sprintf("order %s shipped in the hub: parcel %d's tracking", w.OrderNumber, first.Parcel)))
	}
	if block := parcelNotes(others); block != "" && !w.NotesConfirmed {
		out = append(out, write("order.notes", map[string]any{"append": block},
			fmt.Sprintf("order %s shipped in the hub in %d parcels: the others' tracking, in the internal notes", w.OrderNumber, len(others)+1)))
	}
	status, _ := s.Mapping.StatusFor(channel.Shipped) // DespatchHold checked there is one
	return append(out, write("order.status", map[string]any{"status": status, "email_customer": s.EmailOnDespatch},
		fmt.Sprintf("order %s shipped in the hub: the EKM status mapped to Shipped", w.OrderNumber)))
}

// planCancel is what cancel sends for w: the status mapped to Cancelled.
func planCancel(s channel.Settings, w store.OrderWork) []store.PlannedWrite {
	status, _ := s.Mapping.StatusFor(channel.Cancelled) // CancellationHold checked there is one
	return []store.PlannedWrite{{Kind: store.PlanCancellation, Write: "order.status", Target: fmt.Sprintf("order %d", w.EKMOrderID),
		Subject: w.OrderNumber, EKMOrderID: w.EKMOrderID,
		Values: map[string]any{"status": status, "email_customer": s.EmailOnCancellation},
		Reason: fmt.Sprintf("order %s cancelled in full in the hub: the EKM status mapped to Cancelled", w.OrderNumber)}}
}

// listingWrite is a planned write of a listing's value.
func listingWrite(kind, what string, k store.ListingKey, sku string, values map[string]any, reason string) store.PlannedWrite {
	w := store.PlannedWrite{Kind: kind, Write: "product." + what, Target: fmt.Sprintf("product %d", k.ProductID), Subject: sku,
		EKMProductID: k.ProductID, EKMVariantID: k.VariantID, Values: values, Reason: reason}
	if k.VariantID != 0 {
		w.Write, w.Target = "variant."+what, fmt.Sprintf("product %d variant %d", k.ProductID, k.VariantID)
	}
	return w
}

// planStock is what sendStock sends for l.
func planStock(_ channel.Settings, l store.StockLine) store.PlannedWrite {
	last := "nothing"
	if l.Confirmed != nil {
		last = fmt.Sprint(*l.Confirmed)
	}
	return listingWrite(store.PlanStock, "stock", l.ListingKey, l.SKU, map[string]any{"stock": l.Desired},
		fmt.Sprintf("hub level %d, %d reserved: %d to show by the channel's rules; EKM last confirmed %s", l.Level, l.Reserved, l.Desired, last))
}

// planPrice is what sendPrice sends for l (unless EKM shows the price already).
func planPrice(_ channel.Settings, l store.PriceLine) store.PlannedWrite {
	last := "nothing"
	if l.Confirmed != nil {
		last = l.Confirmed.String()
	}
	return listingWrite(store.PlanPrice, "update", l.ListingKey, l.SKU, map[string]any{"price": l.Desired.String()},
		fmt.Sprintf("hub price %s; EKM last confirmed %s", l.Desired, last))
}
