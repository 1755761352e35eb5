package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// OrderFilter selects orders for 'orders list'. Zero fields select everything.
type OrderFilter struct {
	Status  string     // open, shipped or cancelled
	Payment string     // paid, unpaid or parked
	Since   *time.Time // order_date at or after
	Until   *time.Time // order_date before
	Limit   int        // default 100
}

// OrderSummary is one order as 'orders list' shows it.
type OrderSummary struct {
	EKMOrderID       int64      `json:"ekm_order_id"`
	OrderNumber      string     `json:"order_number"`
	OrderDate        time.Time  `json:"order_date"`
	EKMStatus        string     `json:"ekm_status"`
	Status           string     `json:"status"`
	Paid             bool       `json:"paid"`
	Parked           bool       `json:"parked"`
	ShippedOnChannel bool       `json:"shipped_on_channel"`
	CancelledBy      string     `json:"cancelled_by,omitempty"`
	Currency         string     `json:"currency"`
	TaxSource        string     `json:"tax_source"`
	SubTotal         float64    `json:"sub_total"`
	TotalTax         float64    `json:"total_tax"`
	TotalCost        float64    `json:"total_cost"`
	EKMTotalTax      float64    `json:"ekm_total_tax"`
	EKMTotalCost     float64    `json:"ekm_total_cost"`
	Customer         string     `json:"customer"`
	Lines            int        `json:"lines"`
	UnlinkedLines    int        `json:"unlinked_lines"`
	Quantity         int64      `json:"quantity"`
	DownloadedAt     time.Time  `json:"downloaded_at"`
	UpdatedAt        time.Time  `json:"updated_at"`
	EKMLastUpdated   *time.Time `json:"ekm_last_updated,omitempty"`
}

// ListOrders returns a channel's orders matching f, newest order date first.
func (s *Store) ListOrders(ctx context.Context, channelID int64, f OrderFilter) ([]OrderSummary, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	payment := ""
	switch f.Payment {
	case "":
	case "paid":
		payment = " AND o.paid"
	case "unpaid":
		payment = " AND NOT o.paid"
	case "parked":
		payment = " AND o.parked"
	default:
		return nil, fmt.Errorf("payment filter %q: want paid, unpaid or parked", f.Payment)
	}
	rows, err := s.Pool.Query(ctx, `SELECT o.ekm_order_id, o.order_number, o.order_date, o.ekm_status, o.status, o.paid, o.parked,
			o.shipped_on_channel, COALESCE(o.cancelled_by, ''), o.currency, o.tax_source, o.sub_total::float8,
			o.total_tax::float8, o.total_cost::float8, o.ekm_total_tax::float8, o.ekm_total_cost::float8, o.customer_name,
			(SELECT count(*) FROM order_lines l WHERE l.order_id = o.id)::int,
			(SELECT count(*) FROM order_lines l WHERE l.order_id = o.id
				AND NOT EXISTS (SELECT 1 FROM stock_items s WHERE s.sku = `+lineStockSQL+`))::int,
			(SELECT COALESCE(sum(l.quantity), 0) FROM order_lines l WHERE l.order_id = o.id)::bigint,
			o.downloaded_at, o.updated_at, o.ekm_last_updated
		FROM orders o
		WHERE o.channel_id = $1 AND ($2 = '' OR o.status = $2)
			AND ($3::timestamptz IS NULL OR o.order_date >= $3) AND ($4::timestamptz IS NULL OR o.order_date < $4)`+payment+`
		ORDER BY o.order_date DESC, o.ekm_order_id DESC LIMIT $5`, channelID, f.Status, f.Since, f.Until, f.Limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[OrderSummary])
}

// OrderProblems returns a channel's unresolved quarantined orders, newest first.
func (s *Store) OrderProblems(ctx context.Context, channelID int64) ([]OrderProblem, error) {
	rows, err := s.Pool.Query(ctx, `SELECT problem_key, ekm_order_id, reason, raw, occurrences, first_seen_at, last_seen_at
		FROM order_problems WHERE channel_id = $1 AND resolved_at IS NULL ORDER BY last_seen_at DESC, problem_key`, channelID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (OrderProblem, error) {
		var p OrderProblem
		err := row.Scan(&p.Key, &p.EKMOrderID, &p.Reason, &p.Raw, &p.Occurrences, &p.FirstSeenAt, &p.LastSeenAt)
		return p, err
	})
}

// UnlinkedLine is an order line that takes from no hub stock item: no listing link
// gave it one, and its SKU is no stock item's.
type UnlinkedLine struct {
	EKMOrderID  int64  `json:"ekm_order_id"`
	OrderNumber string `json:"order_number"`
	EKMItemID   int64  `json:"ekm_item_id"`
	SKU         string `json:"sku"`
	Name        string `json:"name"`
	Quantity    int64  `json:"quantity"`
	OrderStatus string `json:"order_status"`
}

// UnlinkedLines returns up to limit lines of a channel's orders that take from no
// stock item now (a stock item of their SKU added since, or a link of their
// listing, links them), newest order first.
func (s *Store) UnlinkedLines(ctx context.Context, channelID int64, limit int) ([]UnlinkedLine, error) {
	rows, err := s.Pool.Query(ctx, `SELECT o.ekm_order_id, o.order_number, l.ekm_item_id, l.sku, l.name, l.quantity::bigint, o.status
		FROM order_lines l JOIN orders o ON o.id = l.order_id
		WHERE o.channel_id = $1 AND NOT EXISTS (SELECT 1 FROM stock_items s WHERE s.sku = `+lineStockSQL+`)
		ORDER BY o.order_date DESC, o.ekm_order_id DESC, l.ekm_item_id LIMIT $2`, channelID, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[UnlinkedLine])
}
