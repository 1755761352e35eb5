package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// The hub's own order changes that the push sends to EKM: shipping an order with
// its parcels and cancelling an order in full or some of its lines. They write the
// same tables an integrator updates in SQL (docs/hub-tables.md), so the two paths
// give the same result.

// OrderRef names a hub order: by its hub id, or by its channel and EKM order id.
type OrderRef struct {
	ID         int64
	Channel    string
	EKMOrderID int64
}

// ParseOrderRef reads "<hub order id>" or "<channel>:<EKM order id>".
func ParseOrderRef(s string) (OrderRef, error) {
	s = strings.TrimSpace(s)
	bad := fmt.Errorf("order %q is neither a hub order id (e.g. 42) nor <channel>:<EKM order id> (e.g. shop:10017)", s)
	if ch, id, ok := strings.Cut(s, ":"); ok {
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil || n < 1 || ch == "" {
			return OrderRef{}, bad
		}
		return OrderRef{Channel: ch, EKMOrderID: n}, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 1 {
		return OrderRef{}, bad
	}
	return OrderRef{ID: n}, nil
}

// String writes the reference as ParseOrderRef reads it.
func (r OrderRef) String() string {
	if r.Channel != "" {
		return r.Channel + ":" + strconv.FormatInt(r.EKMOrderID, 10)
	}
	return strconv.FormatInt(r.ID, 10)
}

// HubOrder is what the outbound commands show of an order.
type HubOrder struct {
	ID               int64      `json:"id"`
	Channel          string     `json:"channel"`
	ChannelID        int64      `json:"-"`
	EKMOrderID       int64      `json:"ekm_order_id"`
	OrderNumber      string     `json:"order_number"`
	Status           string     `json:"status"`
	ShippedOnChannel bool       `json:"shipped_on_channel"`
	CancelledBy      string     `json:"cancelled_by,omitempty"`
	ShippedAt        *time.Time `json:"shipped_at,omitempty"`
	CancelledAt      *time.Time `json:"cancelled_at,omitempty"`
}

// Parcel is one parcel of a shipment: parcel 1's tracking goes to EKM's tracking
// fields, the others into the order's internal notes.
type Parcel struct {
	Parcel         int    `json:"parcel"`
	TrackingNumber string `json:"tracking_number"`
	Carrier        string `json:"carrier"`
	TrackingURL    string `json:"tracking_url"`
}

// lockOrder reads and locks the order ref names.
func lockOrder(ctx context.Context, tx pgx.Tx, ref OrderRef) (HubOrder, error) {
	var o HubOrder
	where, args := `o.id = $1`, []any{ref.ID}
	if ref.Channel != "" {
		where, args = `c.name = $1 AND c.removed_at IS NULL AND o.ekm_order_id = $2`, []any{ref.Channel, ref.EKMOrderID}
	}
	err := tx.QueryRow(ctx, `SELECT o.id, c.name, c.id, o.ekm_order_id, o.order_number, o.status, o.shipped_on_channel,
			COALESCE(o.cancelled_by, ''), o.shipped_at, o.cancelled_at
		FROM orders o JOIN channels c ON c.id = o.channel_id WHERE `+where+` FOR UPDATE OF o`, args...).Scan(
		&o.ID, &o.Channel, &o.ChannelID, &o.EKMOrderID, &o.OrderNumber, &o.Status, &o.ShippedOnChannel,
		&o.CancelledBy, &o.ShippedAt, &o.CancelledAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return o, fmt.Errorf("order %s: %w (list orders with 'starter orders list')", ref, ErrNotFound)
	}
	return o, err
}

// ShipResult is what ShipOrder did.
type ShipResult struct {
	Order   HubOrder `json:"order"`
	Parcels []Parcel `json:"parcels"`
	Changed bool     `json:"changed"`
}

// ShipOrder marks an open order shipped with its parcels (numbered from 1 in the
// order given; none means one parcel without tracking), in one transaction so the
// push never sees a shipped order without them. Shipping again with the same
// parcels, or none, changes nothing; a cancelled order cannot be shipped.
func (s *Store) ShipOrder(ctx context.Context, ref OrderRef, parcels []Parcel, actor string) (ShipResult, error) {
	for i := range parcels {
		parcels[i].Parcel = i + 1
	}
	var res ShipResult
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		o, err := lockOrder(ctx, tx, ref)
		if err != nil {
			return err
		}
		existing, err := orderParcels(ctx, tx, o.ID)
		if err != nil {
			return err
		}
		switch o.Status {
		case "cancelled":
			return fmt.Errorf("order %s (%s) is cancelled: it cannot be shipped", ref, o.OrderNumber)
		case "shipped":
			if len(parcels) > 0 && !sameParcels(parcels, existing) {
				return fmt.Errorf("order %s (%s) is already shipped with other parcels (%s): the despatch it started is not changed",
					ref, o.OrderNumber, describeParcels(existing))
			}
			res = ShipResult{Order: o, Parcels: existing}
			return nil
		}
		switch {
		case len(parcels) == 0 && len(existing) > 0:
			parcels = existing // written beforehand, e.g. by an integrator
		case len(parcels) == 0:
			parcels = []Parcel{{Parcel: 1}}
		}
		if err := replaceParcels(ctx, tx, o.ID, parcels, existing); err != nil {
			return err
		}
		err = tx.QueryRow(ctx, `UPDATE orders SET status = 'shipped', shipped_at = now(), updated_at = now()
			WHERE id = $1 RETURNING status, shipped_at`, o.ID).Scan(&o.Status, &o.ShippedAt)
		if err != nil {
			return err
		}
		res = ShipResult{Order: o, Parcels: parcels, Changed: true}
		return audit(ctx, tx, AuditEntry{ChannelID: o.ChannelID, Channel: o.Channel, Actor: actor, Action: "order.shipped",
			Subject: o.OrderNumber, NewValue: describeParcels(parcels), Detail: map[string]any{"order_id": o.ID, "parcels": parcels}})
	})
	return res, err
}

// replaceParcels makes the order's shipments rows the given parcels.
func replaceParcels(ctx context.Context, tx pgx.Tx, orderID int64, parcels, existing []Parcel) error {
	if sameParcels(parcels, existing) {
		return nil
	}
	if _, err := tx.Exec(ctx, `DELETE FROM shipments WHERE order_id = $1`, orderID); err != nil {
		return err
	}
	for _, p := range parcels {
		if _, err := tx.Exec(ctx, `INSERT INTO shipments (order_id, parcel, tracking_number, carrier, tracking_url)
			VALUES ($1, $2, $3, $4, $5)`, orderID, p.Parcel, p.TrackingNumber, p.Carrier, p.TrackingURL); err != nil {
			return fmt.Errorf("save parcel %d: %w", p.Parcel, err)
		}
	}
	return nil
}

// orderParcels returns an order's parcels in order.
func orderParcels(ctx context.Context, q querier, orderID int64) ([]Parcel, error) {
	rows, err := q.Query(ctx, `SELECT parcel, tracking_number, carrier, tracking_url FROM shipments
		WHERE order_id = $1 ORDER BY parcel`, orderID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[Parcel])
}

func sameParcels(a, b []Parcel) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func describeParcels(ps []Parcel) string {
	parts := make([]string, 0, len(ps))
	for _, p := range ps {
		parts = append(parts, strings.TrimSpace(fmt.Sprintf("%d: %s %s", p.Parcel, p.Carrier, orDashString(p.TrackingNumber))))
	}
	return strings.Join(parts, "; ")
}

func orDashString(s string) string {
	if s == "" {
		return "(no tracking)"
	}
	return s
}

// LineCancel asks to cancel some of an order's lines: Line is the line's SKU, or
// "#<EKM item id>" when several lines share a SKU; Quantity 0 means all that is left.
type LineCancel struct {
	Line     string `json:"line"`
	Quantity int    `json:"quantity"`
}

// CancelledLine is a line's state after a cancellation.
type CancelledLine struct {
	ItemID            int64  `json:"ekm_item_id"`
	SKU               string `json:"sku"`
	Quantity          int    `json:"quantity"`
	CancelledQuantity int    `json:"cancelled_quantity"`
}

// CancelResult is what CancelOrder did.
type CancelResult struct {
	Order   HubOrder        `json:"order"`
	Full    bool            `json:"full"`
	Lines   []CancelledLine `json:"lines,omitempty"`
	Changed bool            `json:"changed"`
}

// CancelOrder cancels an order in the hub: in full when lines is empty, or the
// given quantities of some lines. Cancelling every remaining unit of every line is
// a full cancellation. A full cancellation is sent to EKM; a partial one cannot be
// (EKM has no line cancel) and is recorded as not sent. Cancelling a cancelled
// order again changes nothing; a shipped order cannot be cancelled.
func (s *Store) CancelOrder(ctx context.Context, ref OrderRef, lines []LineCancel, actor string) (CancelResult, error) {
	var res CancelResult
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		o, err := lockOrder(ctx, tx, ref)
		if err != nil {
			return err
		}
		switch o.Status {
		case "shipped":
			return fmt.Errorf("order %s (%s) is shipped: it cannot be cancelled", ref, o.OrderNumber)
		case "cancelled":
			res = CancelResult{Order: o, Full: true}
			return nil
		}
		current, err := orderLines(ctx, tx, o.ID)
		if err != nil {
			return err
		}
		full := len(lines) == 0
		if !full {
			if current, err = applyLineCancels(current, lines, ref); err != nil {
				return err
			}
			full = true
			for _, l := range current {
				if _, err := tx.Exec(ctx, `UPDATE order_lines SET cancelled_quantity = $3 WHERE order_id = $1 AND ekm_item_id = $2`,
					o.ID, l.ItemID, l.CancelledQuantity); err != nil {
					return err
				}
				full = full && l.CancelledQuantity >= l.Quantity
			}
		}
		action := "order.cancelled.partial"
		if full {
			action = "order.cancelled"
			err := tx.QueryRow(ctx, `UPDATE orders SET status = 'cancelled', cancelled_by = 'hub', cancelled_at = now(), updated_at = now()
				WHERE id = $1 RETURNING status, cancelled_by, cancelled_at`, o.ID).Scan(&o.Status, &o.CancelledBy, &o.CancelledAt)
			if err != nil {
				return err
			}
		}
		res = CancelResult{Order: o, Full: full, Lines: current, Changed: true}
		return audit(ctx, tx, AuditEntry{ChannelID: o.ChannelID, Channel: o.Channel, Actor: actor, Action: action,
			Subject: o.OrderNumber, Detail: map[string]any{"order_id": o.ID, "lines": current}})
	})
	return res, err
}

// orderLines returns an order's lines in item order.
func orderLines(ctx context.Context, q querier, orderID int64) ([]CancelledLine, error) {
	rows, err := q.Query(ctx, `SELECT ekm_item_id, sku, quantity, cancelled_quantity FROM order_lines
		WHERE order_id = $1 ORDER BY ekm_item_id`, orderID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[CancelledLine])
}

// applyLineCancels adds the requested cancellations to the lines, refusing a line
// that does not exist, is ambiguous, or has fewer units left than asked.
func applyLineCancels(lines []CancelledLine, reqs []LineCancel, ref OrderRef) ([]CancelledLine, error) {
	for _, r := range reqs {
		i, err := findLine(lines, r.Line, ref)
		if err != nil {
			return nil, err
		}
		l := &lines[i]
		left := l.Quantity - l.CancelledQuantity
		qty := r.Quantity
		if qty == 0 {
			qty = left
		}
		if qty < 0 || qty > left || left == 0 {
			return nil, fmt.Errorf("line %s of order %s has %d of %d left to cancel, not %d", r.Line, ref, left, l.Quantity, qty)
		}
		l.CancelledQuantity += qty
	}
	return lines, nil
}

func findLine(lines []CancelledLine, key string, ref OrderRef) (int, error) {
	if id, ok := strings.CutPrefix(key, "#"); ok {
		n, err := strconv.ParseInt(id, 10, 64)
		for i, l := range lines {
			if err == nil && l.ItemID == n {
				return i, nil
			}
		}
		return 0, fmt.Errorf("order %s has no line with EKM item id %s", ref, id)
	}
	found := -1
	for i, l := range lines {
		if l.SKU == key {
			if found >= 0 {
				return 0, fmt.Errorf("order %s has several lines with SKU %s: name one as #<EKM item id> (#%d or #%d)", ref, key, lines[found].ItemID, l.ItemID)
			}
			found = i
		}
	}
	if found < 0 {
		return 0, fmt.Errorf("order %s has no line with SKU %q", ref, key)
	}
	return found, nil
}
