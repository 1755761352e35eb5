package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// The hub's stock levels and prices, as 'starter stock set' and 'starter price set'
// change them. An integrator's UPDATE of stock_levels or prices has the same effect.

// DefaultLocation is the stock location of a level set without one (the column's
// default).
const DefaultLocation = "default"

// StockLevelResult is what SetStockLevel did.
type StockLevelResult struct {
	SKU         string `json:"sku"`
	Location    string `json:"location"`
	Level       int    `json:"level"`
	Previous    *int   `json:"previous"`
	CreatedItem bool   `json:"created_item"`
	Changed     bool   `json:"changed"`
}

// SetStockLevel sets a SKU's stock level at one location. A SKU the hub does not
// know yet gets a stock item (with an empty title), so that a level can be set
// before anything else about it. Negative levels are kept as they are (a count may
// be behind); the quantity sent never goes below 0.
func (s *Store) SetStockLevel(ctx context.Context, sku, location string, level int, actor string) (StockLevelResult, error) {
	sku, location = strings.TrimSpace(sku), strings.TrimSpace(location)
	if location == "" {
		location = DefaultLocation
	}
	res := StockLevelResult{SKU: sku, Location: location, Level: level}
	if sku == "" {
		return res, errors.New("the SKU is empty")
	}
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		created, err := ensureStockItem(ctx, tx, sku)
		if err != nil {
			return err
		}
		res.CreatedItem = created
		var prev *int
		err = tx.QueryRow(ctx, `SELECT level FROM stock_levels WHERE sku = $1 AND location = $2 FOR UPDATE`, sku, location).Scan(&prev)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		res.Previous = prev
		if prev != nil && *prev == level {
			return nil
		}
		if _, err := tx.Exec(ctx, `INSERT INTO stock_levels (sku, location, level) VALUES ($1, $2, $3)
			ON CONFLICT (sku, location) DO UPDATE SET level = EXCLUDED.level, updated_at = now()`, sku, location, level); err != nil {
			return fmt.Errorf("set stock level of %s at %s: %w", sku, location, err)
		}
		res.Changed = true
		return audit(ctx, tx, AuditEntry{Actor: actor, Action: "stock.set", Subject: sku + "@" + location,
			OldValue: intString(prev), NewValue: fmt.Sprint(level)})
	})
	return res, err
}

// PriceResult is what SetPrice did.
type PriceResult struct {
	SKU         string   `json:"sku"`
	Price       Pennies  `json:"price"`
	Previous    *Pennies `json:"previous"`
	CreatedItem bool     `json:"created_item"`
	Changed     bool     `json:"changed"`
}

// SetPrice sets a SKU's hub price, creating the stock item if the hub does not know
// the SKU yet.
func (s *Store) SetPrice(ctx context.Context, sku string, price Pennies, actor string) (PriceResult, error) {
	sku = strings.TrimSpace(sku)
	res := PriceResult{SKU: sku, Price: price}
	if sku == "" {
		return res, errors.New("the SKU is empty")
	}
	if price < 0 {
		return res, fmt.Errorf("price %s is negative", price)
	}
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		created, err := ensureStockItem(ctx, tx, sku)
		if err != nil {
			return err
		}
		res.CreatedItem = created
		var prev *Pennies
		err = tx.QueryRow(ctx, `SELECT round(price * 100)::bigint FROM prices WHERE sku = $1 FOR UPDATE`, sku).Scan(&prev)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		res.Previous = prev
		if prev != nil && *prev == price {
			return nil
		}
		if _, err := tx.Exec(ctx, `INSERT INTO prices (sku, price) VALUES ($1, $2::bigint / 100.0)
			ON CONFLICT (sku) DO UPDATE SET price = EXCLUDED.price, updated_at = now()`, sku, int64(price)); err != nil {
			return fmt.Errorf("set price of %s: %w", sku, err)
		}
		res.Changed = true
		old := ""
		if prev != nil {
			old = prev.String()
		}
		return audit(ctx, tx, AuditEntry{Actor: actor, Action: "price.set", Subject: sku, OldValue: old, NewValue: price.String()})
	})
	return res, err
}

// ensureStockItem creates the stock item of sku if it does not exist, and reports
// whether it did.
func ensureStockItem(ctx context.Context, tx pgx.Tx, sku string) (bool, error) {
	tag, err := tx.Exec(ctx, `INSERT INTO stock_items (sku) VALUES ($1) ON CONFLICT (sku) DO NOTHING`, sku)
	if err != nil {
		return false, fmt.Errorf("stock item %s: %w", sku, err)
	}
	return tag.RowsAffected() == 1, nil
}

func intString(p *int) string {
	if p == nil {
		return ""
	}
	return fmt.Sprint(*p)
}
