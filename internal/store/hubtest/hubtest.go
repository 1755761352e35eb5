// Package hubtest writes hub rows for tests and benchmarks as the other flows
// would: orders and their lines as the order download stores them, listings as
// the listing download does, and stock items with levels. It uses only the
// columns of the first schema, so tests of the push need neither download.
package hubtest

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ekmsync/ekmsync/internal/store/storetest"
)

// Channel inserts a bare channel (enabled, authorised, with the given status
// mapping) and returns its id, for store tests that need no EKM.
func Channel(t storetest.TB, pool *pgxpool.Pool, name string, mapping map[string]string) int64 {
	t.Helper()
	ctx := context.Background()
	var id int64
	err := pool.QueryRow(ctx, `INSERT INTO channels (name, api_base_url, client_id, redirect_url, currency, enabled, auth_state)
		VALUES ($1, 'http://127.0.0.1:1', 'client', 'http://127.0.0.1:2/callback', 'GBP', true, 'ok') RETURNING id`, name).Scan(&id)
	if err != nil {
		t.Fatalf("insert channel %s: %v", name, err)
	}
	for status, target := range mapping {
		if _, err := pool.Exec(ctx, `INSERT INTO channel_status_map (channel_id, ekm_status, target) VALUES ($1, $2, $3)`, id, status, target); err != nil {
			t.Fatalf("insert mapping: %v", err)
		}
	}
	return id
}

// Line is an order line to insert.
type Line struct {
	ItemID   int64
	SKU      string
	Quantity int
}

// Order is an order to insert.
type Order struct {
	ChannelID  int64
	EKMOrderID int64
	Number     string // default "<EKM order id>/TEST"
	Status     string // default open
	Lines      []Line
}

// InsertOrder inserts an order and its lines as the order download would store a
// paid order, and returns the hub order id.
func InsertOrder(t storetest.TB, pool *pgxpool.Pool, o Order) int64 {
	t.Helper()
	ctx := context.Background()
	if o.Number == "" {
		o.Number = fmt.Sprintf("%d/TEST", o.EKMOrderID)
	}
	if o.Status == "" {
		o.Status = "open"
	}
	var id int64
	err := pool.QueryRow(ctx, `INSERT INTO orders (channel_id, ekm_order_id, order_number, order_date, ekm_status,
			payment_status, transaction_id, paid, status, currency, tax_source, raw)
		VALUES ($1, $2, $3, now(), 'PROCESSING', 'SUCCESS', 'tx', true, $4, 'GBP', 'ekm', '{}') RETURNING id`,
		o.ChannelID, o.EKMOrderID, o.Number, o.Status).Scan(&id)
	if err != nil {
		t.Fatalf("insert order %d: %v", o.EKMOrderID, err)
	}
	for i, l := range o.Lines {
		if l.ItemID == 0 {
			l.ItemID = int64(i + 1)
		}
		if _, err := pool.Exec(ctx, `INSERT INTO order_lines (order_id, ekm_item_id, sku, quantity, linked, raw)
			VALUES ($1, $2, $3, $4, true, '{}')`, id, l.ItemID, l.SKU, l.Quantity); err != nil {
			t.Fatalf("insert order line: %v", err)
		}
	}
	return id
}

// Listing is a listing to insert, as the listing download stores it.
type Listing struct {
	ChannelID, ProductID, VariantID int64
	SKU                             string
	// EKMStock and EKMPrice are what the download saw on EKM; the push takes
	// them as confirmed until it sends.
	EKMStock *int64
	EKMPrice *float64
	// SKUProblem is "", "empty" or "duplicate".
	SKUProblem                          string
	MaxListed, StockPercentage, EndWhen *int
}

// InsertListing inserts a listing.
func InsertListing(t storetest.TB, pool *pgxpool.Pool, l Listing) {
	t.Helper()
	_, err := pool.Exec(context.Background(), `INSERT INTO listings (channel_id, product_id, variant_id, sku, name, ekm_stock, ekm_price,
			sku_problem, seen_generation, max_listed_override, stock_percentage_override, end_when_override)
		VALUES ($1, $2, $3, $4, $4, $5, $6, NULLIF($7, ''), 1, $8, $9, $10)`,
		l.ChannelID, l.ProductID, l.VariantID, l.SKU, l.EKMStock, l.EKMPrice, l.SKUProblem, l.MaxListed, l.StockPercentage, l.EndWhen)
	if err != nil {
		t.Fatalf("insert listing %d/%d: %v", l.ProductID, l.VariantID, err)
	}
}

// StockItem inserts a stock item with a level at each of the given locations
// (location → level).
func StockItem(t storetest.TB, pool *pgxpool.Pool, sku string, levels map[string]int) {
	t.Helper()
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `INSERT INTO stock_items (sku, title) VALUES ($1, $1) ON CONFLICT DO NOTHING`, sku); err != nil {
		t.Fatalf("insert stock item %s: %v", sku, err)
	}
	for loc, level := range levels {
		if _, err := pool.Exec(ctx, `INSERT INTO stock_levels (sku, location, level) VALUES ($1, $2, $3)
			ON CONFLICT (sku, location) DO UPDATE SET level = EXCLUDED.level`, sku, loc, level); err != nil {
			t.Fatalf("insert stock level %s@%s: %v", sku, loc, err)
		}
	}
}

// Ptr returns a pointer to v, for the optional fields.
func Ptr[T any](v T) *T { return &v }
