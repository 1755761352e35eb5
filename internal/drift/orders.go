package drift

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/ekm"
	"github.com/ekmsync/ekmsync/internal/store"
)

// KindCancelledOnEKM is an order cancelled on EKM that the hub holds open.
const KindCancelledOnEKM = "cancelled_on_ekm"

// compareOrders reads the orders EKM holds placed since since and applies the
// order sync's own rules (channel.Settings.DecideOrder) to each against the hub's
// copy: an order the sync would store that the hub lacks is missed; one EKM shows
// shipped or cancelled that the hub holds open, or one whose despatch the push
// sent while EKM is not in a Shipped status, disagrees. What the next order sync
// reads anyway (placed, or changed on EKM, inside its window: the Order Sync Date
// or the last_updated cursor, less the overlap) is pending, not drift.
func compareOrders(ctx context.Context, st *store.Store, c *ekm.Client, s channel.Settings, since, now time.Time, r *Report) error {
	var orders []ekm.Order
	q := ekm.SearchOptions{Query: "order_date ge " + ekm.ODataTime(since), OrderBy: "order_date"}
	for raw, err := range ekm.Items(ctx, c.OrderSearchPages(q)) {
		if err != nil {
			return err
		}
		o, err := ekm.DecodeOrder(raw)
		if err != nil || o.ID < 1 {
			r.Compared.Unreadable++
			continue
		}
		orders = append(orders, o)
	}
	r.Compared.EKMOrders = len(orders)
	ids := make([]int64, len(orders))
	for i, o := range orders {
		ids[i] = o.ID
	}
	hub, err := st.HubOrdersByEKMID(ctx, s.ID, ids)
	if err != nil {
		return err
	}
	sync, err := st.OrderSync(ctx, s.ID)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return err
	}
	for _, o := range orders {
		h, inHub := hub[o.ID]
		d := s.DecideOrder(channel.OrderFacts{Status: o.Status, Paid: o.Paid(), OrderDate: o.OrderDate.Time, Now: now,
			InHub: inHub, HubStatus: h.Status})
		row := OrderRow{EKMOrderID: o.ID, Number: o.OrderNumber, OrderDate: o.OrderDate.Time.UTC(), EKMStatus: o.Status,
			HubStatus: h.Status, State: StateDrifted}
		switch {
		case !inHub && d.Action == channel.ActionStore:
			row.Kind, row.Reason = KindMissed, "not in the hub, and the order sync's rules download it: "+d.Target.Title()
			if sync.SyncDate == nil || !o.OrderDate.Time.Before(sync.SyncDate.Add(-s.OrderOverlap)) {
				row.State, row.Reason = StatePending, "inside the next sync's window (the Order Sync Date less the overlap): the next sync downloads it"
			}
		case inHub && h.Status == "open" && (d.Action == channel.ActionShip || d.Action == channel.ActionCancel):
			row.Kind, row.Reason = KindShippedOnEKM, "shipped on EKM, open in the hub"
			if d.Action == channel.ActionCancel {
				row.Kind, row.Reason = KindCancelledOnEKM, "cancelled on EKM, open in the hub"
			}
			if o.LastUpdated != nil && (sync.UpdatedCursor == nil || !o.LastUpdated.Time.Before(sync.UpdatedCursor.Add(-s.OrderOverlap))) {
				row.State, row.Reason = StatePending, row.Reason+": changed on EKM inside the next sync's last_updated window, which re-reads it"
			}
		case inHub && h.Status == "shipped" && !h.ShippedOnChannel && h.DespatchSent && d.Target != channel.Shipped:
			row.Kind, row.Reason = KindShippedInHub, fmt.Sprintf("the despatch was sent, but EKM shows status %q, which does not map to Shipped "+
				"(changed on EKM since?); not healed: sending it again would e-mail the customer, set the status on EKM if it is right", o.Status)
		default:
			continue
		}
		r.Orders = append(r.Orders, row)
		r.count(row.State, row.Kind)
	}
	return nil
}
