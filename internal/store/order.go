package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// Order actions, as the order sync decided them (channel.Action).
const (
	OrderStore  = "store"  // insert, or refresh the hub's copy
	OrderCancel = "cancel" // refresh, and switch an open hub order to cancelled
	OrderShip   = "ship"   // refresh, and mark an open hub order shipped on the channel
)

// OrderRow is one EKM order as the hub stores it.
type OrderRow struct {
	EKMOrderID      int64
	OrderNumber     string
	OrderDate       time.Time
	EKMLastUpdated  *time.Time
	EKMStatus       string
	PaymentStatus   string
	TransactionID   string
	Paid            bool
	Parked          bool
	Status          string // open or cancelled, for a new order
	Currency        string
	CustomerName    string
	CustomerEmail   string
	ShippingAddress json.RawMessage
	TaxSource       string // ekm or hub
	EKM             Totals // as EKM reports them
	Hub             Totals // the hub's: EKM's, or recomputed with the hub's rates
	Raw             json.RawMessage
	// EKMDeliveryMethod is EKM's delivery_method; DeliveryService the hub's service
	// it maps to ("" when the channel maps none, or this one is unmapped), and
	// DeliveryUnmapped the flag of an order whose method has no mapping.
	EKMDeliveryMethod string
	DeliveryService   string
	DeliveryUnmapped  bool
}

// Totals are an order's money figures.
type Totals struct {
	SubTotal       float64 `json:"sub_total"`
	TotalDelivery  float64 `json:"total_delivery"`
	TotalTax       float64 `json:"total_tax"`
	TotalCost      float64 `json:"total_cost"`
	DiscountsTotal float64 `json:"discounts_total"`
}

// OrderLineRow is one order line as the hub stores it.
type OrderLineRow struct {
	EKMItemID    int64
	SKU          string
	Name         string
	Options      string
	Quantity     int64
	EKMUnitPrice float64
	EKMTax       float64
	EKMTaxRate   float64
	EKMDiscount  float64
	TaxRate      float64
	Net          float64
	Tax          float64
	Gross        float64
	Linked       bool
	Raw          json.RawMessage
}

// OrderWrite is one order of a page to write. Lines are written only for a new
// order (Lines non-nil): an order already in the hub keeps the lines it has.
type OrderWrite struct {
	Action string
	Order  OrderRow
	Lines  []OrderLineRow
}

// OrderProblem is an order that could not be read, quarantined with the reason.
type OrderProblem struct {
	Key         string          `json:"key"` // the EKM order id, or a hash of the raw body
	EKMOrderID  *int64          `json:"ekm_order_id,omitempty"`
	Reason      string          `json:"reason"`
	Raw         string          `json:"raw,omitempty"`
	Occurrences int             `json:"occurrences"`
	FirstSeenAt time.Time       `json:"first_seen_at"`
	LastSeenAt  time.Time       `json:"last_seen_at"`
	Detail      json.RawMessage `json:"-"`
}

// WatchEntry is a skipped, unpaid order that may still become paid.
type WatchEntry struct {
	EKMOrderID int64
	OrderDate  time.Time
	Reason     string
}

// OrderPage is everything one step of an order sync commits at once: the orders,
// the quarantined ones, the watch list, and the Order Sync Date that the page
// covers. Committing them in one transaction is what lets the Order Sync Date move
// only once the orders up to it are in the hub.
type OrderPage struct {
	ChannelID int64
	Orders    []OrderWrite
	Problems  []OrderProblem
	Resolved  []int64 // orders read fine: their problems, if any, are resolved
	Watch     []WatchEntry
	Unwatch   []int64    // orders stored, or no longer downloadable
	SyncDate  *time.Time // if set, the Order Sync Date moves up to it (never back)
}

// WriteOutcome is what happened to one OrderWrite.
type WriteOutcome struct {
	Inserted bool // a new hub order
	Changed  bool // an existing one that changed
	// Quarantined is why the order could not be stored ("" if it was): it is
	// in order_problems instead, and a later read of it may still store it.
	Quarantined string
}

// upsertOrderSQL inserts an order or refreshes the hub's copy. A refresh never
// downgrades: paid stays paid, parked clears once paid, a shipped or cancelled
// hub order keeps its status, and the currency, tax source and hub figures stay
// those of the first download (the lines are not re-read). An unchanged order
// returns no row, which tells a refresh from a no-op.
const upsertOrderSQL = `
INSERT INTO orders AS o (channel_id, ekm_order_id, order_number, order_date, ekm_last_updated, ekm_status,
	payment_status, transaction_id, paid, parked, status, cancelled_by, cancelled_at, currency, customer_name,
	customer_email, shipping_address, tax_source, ekm_sub_total, ekm_total_delivery, ekm_total_tax,
	ekm_total_cost, ekm_discounts_total, sub_total, total_tax, total_cost, raw,
	ekm_delivery_method, delivery_service, delivery_unmapped)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,
	CASE WHEN $11 = 'cancelled' THEN 'channel' END, CASE WHEN $11 = 'cancelled' THEN now() END,
	$12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $27, $28, $29)
ON CONFLICT (channel_id, ekm_order_id) DO UPDATE SET
	order_number = EXCLUDED.order_number,
	order_date = EXCLUDED.order_date,
	ekm_last_updated = EXCLUDED.ekm_last_updated,
	ekm_status = EXCLUDED.ekm_status,
	payment_status = EXCLUDED.payment_status,
	transaction_id = EXCLUDED.transaction_id,
	paid = o.paid OR EXCLUDED.paid,
	parked = o.parked AND NOT EXCLUDED.paid AND NOT (o.status = 'open' AND $26 IN ('cancel', 'ship')),
	status = CASE WHEN o.status = 'open' AND $26 = 'cancel' THEN 'cancelled'
	              WHEN o.status = 'open' AND $26 = 'ship' THEN 'shipped' ELSE o.status END,
	cancelled_by = CASE WHEN o.status = 'open' AND $26 = 'cancel' THEN 'channel' ELSE o.cancelled_by END,
	cancelled_at = CASE WHEN o.status = 'open' AND $26 = 'cancel' THEN now() ELSE o.cancelled_at END,
	shipped_on_channel = o.shipped_on_channel OR (o.status = 'open' AND $26 = 'ship'),
	shipped_at = CASE WHEN o.status = 'open' AND $26 = 'ship' THEN now() ELSE o.shipped_at END,
	customer_name = EXCLUDED.customer_name,
	customer_email = EXCLUDED.customer_email,
	shipping_address = EXCLUDED.shipping_address,
	ekm_sub_total = EXCLUDED.ekm_sub_total,
	ekm_total_delivery = EXCLUDED.ekm_total_delivery,
	ekm_total_tax = EXCLUDED.ekm_total_tax,
	ekm_total_cost = EXCLUDED.ekm_total_cost,
	ekm_discounts_total = EXCLUDED.ekm_discounts_total,
	raw = EXCLUDED.raw,
	ekm_delivery_method = EXCLUDED.ekm_delivery_method,
	delivery_service = EXCLUDED.delivery_service,
	delivery_unmapped = EXCLUDED.delivery_unmapped,
	updated_at = now()
WHERE o.raw IS DISTINCT FROM EXCLUDED.raw
	OR (o.delivery_service, o.delivery_unmapped) IS DISTINCT FROM (EXCLUDED.delivery_service, EXCLUDED.delivery_unmapped)
	OR (o.paid OR EXCLUDED.paid) IS DISTINCT FROM o.paid
	OR (o.parked AND NOT EXCLUDED.paid) IS DISTINCT FROM o.parked
	OR (o.status = 'open' AND $26 IN ('cancel', 'ship'))
RETURNING (xmax = 0)`

// insertLinesSQL writes a new order's lines, each with the stock item a listing
// link of its SKU gives it (stock_sku, migration 014); a line already there (a
// retried or concurrent write) is left as it is.
const insertLinesSQL = `
INSERT INTO order_lines (order_id, ekm_item_id, sku, name, options, quantity, ekm_unit_price, ekm_tax,
	ekm_tax_rate, ekm_discount, tax_rate, net, tax, gross, linked, raw, stock_sku)
SELECT (SELECT id FROM orders WHERE channel_id = $1 AND ekm_order_id = $2),
	u.item, u.sku, u.name, u.options, u.qty, u.price, u.etax, u.erate, u.disc, u.rate, u.net, u.tax, u.gross, u.linked, u.raw::jsonb,
	ekmsync_link_sku($1, u.sku, ekmsync_line_product(u.raw::jsonb))
FROM unnest($3::bigint[], $4::text[], $5::text[], $6::text[], $7::int[], $8::float8[], $9::float8[], $10::float8[],
	$11::float8[], $12::float8[], $13::float8[], $14::float8[], $15::float8[], $16::bool[], $17::text[])
	AS u(item, sku, name, options, qty, price, etax, erate, disc, rate, net, tax, gross, linked, raw)
ON CONFLICT (order_id, ekm_item_id) DO NOTHING`

// WriteOrderPage commits one page of an order sync in one transaction, and says
// what happened to each order (in p.Orders' order). Strings are made storable;
// an order whose figures do not fit the schema's columns is quarantined in
// order_problems instead of stored, with the reason, and the rest of the page
// (with its Order Sync Date) is committed. If the page still fails with a data
// error (SQLSTATE class 22 or 23), it is written again order by order, and only
// the orders that fail are quarantined, with PostgreSQL's message.
func (s *Store) WriteOrderPage(ctx context.Context, p OrderPage) ([]WriteOutcome, error) {
	out := make([]WriteOutcome, len(p.Orders))
	writes := make([]OrderWrite, len(p.Orders))
	for i, w := range p.Orders {
		writes[i] = prepareOrder(w)
		if err := checkOrder(writes[i]); err != nil {
			out[i].Quarantined = err.Error()
		}
	}
	err := s.writeOrderPage(ctx, p, writes, out, false)
	if dataError(err) != nil {
		for i := range out {
			out[i] = WriteOutcome{Quarantined: out[i].Quarantined}
		}
		err = s.writeOrderPage(ctx, p, writes, out, true)
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// writeOrderPage is one try of WriteOrderPage: the orders not quarantined in
// out in one batch, or (oneByOne) each under a savepoint that a data error
// rolls back, quarantining that order.
func (s *Store) writeOrderPage(ctx context.Context, p OrderPage, writes []OrderWrite, out []WriteOutcome, oneByOne bool) error {
	return pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		for i, w := range writes {
			if out[i].Quarantined != "" {
				continue
			}
			if !oneByOne {
				queueOrder(b, p.ChannelID, w, &out[i])
				continue
			}
			if err := writeOneOrder(ctx, tx, p.ChannelID, w, &out[i]); err != nil {
				return err
			}
		}
		problems, resolved := p.Problems, p.Resolved
		for i, w := range writes {
			if out[i].Quarantined == "" {
				continue
			}
			id := w.Order.EKMOrderID
			problems = append(problems, OrderProblem{Key: strconv.FormatInt(id, 10), EKMOrderID: &id,
				Reason: out[i].Quarantined, Raw: string(w.Order.Raw)})
			resolved = slices.DeleteFunc(slices.Clone(resolved), func(r int64) bool { return r == id })
		}
		for _, pr := range problems {
			b.Queue(`INSERT INTO order_problems (channel_id, problem_key, ekm_order_id, reason, raw) VALUES ($1, $2, $3, $4, $5)
				ON CONFLICT (channel_id, problem_key) DO UPDATE SET reason = EXCLUDED.reason, raw = EXCLUDED.raw,
					ekm_order_id = EXCLUDED.ekm_order_id, occurrences = order_problems.occurrences + 1,
					last_seen_at = now(), resolved_at = NULL`,
				p.ChannelID, Storable(pr.Key), pr.EKMOrderID, Storable(pr.Reason), Storable(pr.Raw))
		}
		if len(resolved) > 0 {
			b.Queue(`UPDATE order_problems SET resolved_at = now()
				WHERE channel_id = $1 AND ekm_order_id = ANY($2) AND resolved_at IS NULL`, p.ChannelID, resolved)
		}
		for _, w := range p.Watch {
			b.Queue(`INSERT INTO order_watch (channel_id, ekm_order_id, order_date, reason) VALUES ($1, $2, $3, $4)
				ON CONFLICT (channel_id, ekm_order_id) DO UPDATE SET reason = EXCLUDED.reason,
					order_date = EXCLUDED.order_date, last_checked_at = now()`,
				p.ChannelID, w.EKMOrderID, w.OrderDate, Storable(w.Reason))
		}
		if len(p.Unwatch) > 0 {
			b.Queue(`DELETE FROM order_watch WHERE channel_id = $1 AND ekm_order_id = ANY($2)`, p.ChannelID, p.Unwatch)
		}
		if p.SyncDate != nil {
			b.Queue(`INSERT INTO order_sync_state (channel_id, sync_date) VALUES ($1, $2)
				ON CONFLICT (channel_id) DO UPDATE SET
					sync_date = GREATEST(order_sync_state.sync_date, EXCLUDED.sync_date), updated_at = now()`,
				p.ChannelID, *p.SyncDate)
		}
		return tx.SendBatch(ctx, b).Close()
	})
}

// writeOneOrder writes one order under a savepoint; a data error rolls it back
// and quarantines the order in out.
func writeOneOrder(ctx context.Context, tx pgx.Tx, channelID int64, w OrderWrite, out *WriteOutcome) error {
	sp, err := tx.Begin(ctx)
	if err != nil {
		return err
	}
	b := &pgx.Batch{}
	queueOrder(b, channelID, w, out)
	err = sp.SendBatch(ctx, b).Close()
	if pg := dataError(err); pg != nil {
		if err := sp.Rollback(ctx); err != nil {
			return err
		}
		*out = WriteOutcome{Quarantined: dataReason(pg)}
		return nil
	}
	if err != nil {
		return err
	}
	return sp.Commit(ctx)
}

// queueOrder queues an order's upsert (its outcome into out) and, for a new
// order, its lines.
func queueOrder(b *pgx.Batch, channelID int64, w OrderWrite, out *WriteOutcome) {
	o := w.Order
	b.Queue(upsertOrderSQL, channelID, o.EKMOrderID, o.OrderNumber, o.OrderDate, o.EKMLastUpdated, o.EKMStatus,
		o.PaymentStatus, o.TransactionID, o.Paid, o.Parked, orDefault(o.Status, "open"), o.Currency, o.CustomerName,
		o.CustomerEmail, nullJSON(o.ShippingAddress), o.TaxSource, o.EKM.SubTotal, o.EKM.TotalDelivery, o.EKM.TotalTax,
		o.EKM.TotalCost, o.EKM.DiscountsTotal, o.Hub.SubTotal, o.Hub.TotalTax, o.Hub.TotalCost, string(o.Raw),
		w.Action, o.EKMDeliveryMethod, nullString(o.DeliveryService), o.DeliveryUnmapped).QueryRow(func(row pgx.Row) error {
		err := row.Scan(&out.Inserted)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // unchanged
		}
		if err != nil {
			return fmt.Errorf("store order %d: %w", o.EKMOrderID, err)
		}
		out.Changed = !out.Inserted
		return nil
	})
	if w.Lines != nil {
		queueLines(b, channelID, o.EKMOrderID, w.Lines)
	}
}

func queueLines(b *pgx.Batch, channelID, ekmOrderID int64, lines []OrderLineRow) {
	n := len(lines)
	items, qty := make([]int64, n), make([]int64, n)
	sku, name, opts, raw := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	price, etax, erate, disc := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	rate, net, tax, gross := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	linked := make([]bool, n)
	for i, l := range lines {
		items[i], sku[i], name[i], opts[i], qty[i] = l.EKMItemID, l.SKU, l.Name, l.Options, l.Quantity
		price[i], etax[i], erate[i], disc[i] = l.EKMUnitPrice, l.EKMTax, l.EKMTaxRate, l.EKMDiscount
		rate[i], net[i], tax[i], gross[i], linked[i] = l.TaxRate, l.Net, l.Tax, l.Gross, l.Linked
		raw[i] = string(l.Raw)
		if raw[i] == "" {
			raw[i] = "{}"
		}
	}
	b.Queue(insertLinesSQL, channelID, ekmOrderID, items, sku, name, opts, qty, price, etax, erate, disc, rate, net, tax, gross, linked, raw)
}

// OrderState is what the order rules need of an order already in the hub.
type OrderState struct {
	Status string
	Paid   bool
	Parked bool
}

// HubOrders returns the hub's copies of the given EKM orders of a channel, by
// EKM order id; orders not in the hub are absent.
func (s *Store) HubOrders(ctx context.Context, channelID int64, ekmIDs []int64) (map[int64]OrderState, error) {
	rows, err := s.Pool.Query(ctx, `SELECT ekm_order_id, status, paid, parked FROM orders
		WHERE channel_id = $1 AND ekm_order_id = ANY($2)`, channelID, ekmIDs)
	if err != nil {
		return nil, err
	}
	out := map[int64]OrderState{}
	var id int64
	var h OrderState
	_, err = pgx.ForEachRow(rows, []any{&id, &h.Status, &h.Paid, &h.Parked}, func() error {
		out[id] = h
		return nil
	})
	return out, err
}

// StockTaxRates returns, per order line SKU among skus, the tax rate of the stock
// item the line takes on the channel (nil: the channel's default rate): the item a
// listing link of the SKU names, else the item of the SKU itself. A SKU absent
// from the map takes from no stock item. Lines carry no product id here: a SKU
// that links differently per product takes the first link's rate (ekmsync_link_sku).
func (s *Store) StockTaxRates(ctx context.Context, channelID int64, skus []string) (map[string]*float64, error) {
	rows, err := s.Pool.Query(ctx, `SELECT u.sku, si.tax_rate::float8 FROM unnest($2::text[]) AS u(sku)
		JOIN stock_items si ON si.sku = COALESCE(ekmsync_link_sku($1, u.sku, NULL), u.sku)`, channelID, skus)
	if err != nil {
		return nil, err
	}
	out := map[string]*float64{}
	var sku string
	var rate *float64
	_, err = pgx.ForEachRow(rows, []any{&sku, &rate}, func() error {
		out[sku] = rate
		return nil
	})
	return out, err
}

// RecheckIDs returns the EKM orders of a channel that every sync re-reads by id:
// parked (unpaid) orders still open, watched skipped orders dated at or after watchSince,
// and quarantined orders with an id. Watched orders older than watchSince are
// dropped from the watch list.
func (s *Store) RecheckIDs(ctx context.Context, channelID int64, watchSince time.Time) ([]int64, error) {
	if _, err := s.Pool.Exec(ctx, `DELETE FROM order_watch WHERE channel_id = $1 AND order_date < $2`, channelID, watchSince); err != nil {
		return nil, err
	}
	rows, err := s.Pool.Query(ctx, `
		SELECT ekm_order_id FROM orders WHERE channel_id = $1 AND parked AND status = 'open'
		UNION SELECT ekm_order_id FROM order_watch WHERE channel_id = $1
		UNION SELECT ekm_order_id FROM order_problems WHERE channel_id = $1 AND resolved_at IS NULL AND ekm_order_id IS NOT NULL
		ORDER BY 1`, channelID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// reservedSQL selects (sku, qty): per stock SKU that skuFilter (the rest of a
// condition on it, such as "IN (...)") admits, the quantity that open hub orders
// (neither shipped nor cancelled, of every channel) hold: the sum of quantity
// minus cancelled quantity over their lines, never below 0 per line. A line takes
// from the stock item its listing link gave it, else from its own SKU's
// (lineStockSQL). The push subtracts it from the stock level
// (docs/channel-semantics.md §3).
func reservedSQL(skuFilter string) string {
	return `SELECT ` + lineStockSQL + ` AS sku, sum(GREATEST(l.quantity - l.cancelled_quantity, 0))::bigint AS qty
			FROM order_lines l JOIN orders o ON o.id = l.order_id
			WHERE o.status = 'open' AND ` + lineStockSQL + ` ` + skuFilter + `
			GROUP BY 1`
}

// lineStockSQL is the SKU of the stock item an order line l takes from: the one
// a listing link gave it (order_lines.stock_sku), else its own. The expression is
// indexed (migration 014).
const lineStockSQL = `COALESCE(l.stock_sku, l.sku)`

// ReservedBySKU returns, per SKU, the quantity that open hub orders hold, as
// StockPlan reserves it (reservedSQL). SKUs with nothing reserved are absent.
func (s *Store) ReservedBySKU(ctx context.Context) (map[string]int64, error) {
	rows, err := s.Pool.Query(ctx, reservedSQL(`<> ''`))
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	var sku string
	var n int64
	_, err = pgx.ForEachRow(rows, []any{&sku, &n}, func() error {
		if n > 0 {
			out[sku] = n
		}
		return nil
	})
	return out, err
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func nullJSON(raw json.RawMessage) any {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	return string(raw)
}
