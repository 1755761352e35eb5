package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// StoredListing is a listing as the hub keeps it.
type StoredListing struct {
	Listing
	SKUProblem     string     `json:"sku_problem,omitempty"`
	SeenGeneration int64      `json:"seen_generation"`
	RemovedAt      *time.Time `json:"removed_at,omitempty"`
}

// Listings returns every listing of a channel, removed ones included, by product
// and variant id.
func (s *Store) Listings(ctx context.Context, channelID int64) ([]StoredListing, error) {
	rows, err := s.Pool.Query(ctx, `SELECT product_id, variant_id, sku, name, variant_name, live,
			COALESCE(ekm_price, 0)::float8, COALESCE(ekm_stock, 0), COALESCE(sku_problem, ''), seen_generation, removed_at
		FROM listings WHERE channel_id = $1 ORDER BY product_id, variant_id`, channelID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (StoredListing, error) {
		var l StoredListing
		err := row.Scan(&l.ProductID, &l.VariantID, &l.SKU, &l.Name, &l.VariantName, &l.Live, &l.Price, &l.Stock,
			&l.SKUProblem, &l.SeenGeneration, &l.RemovedAt)
		return l, err
	})
}

// ListingProblem is a live listing that cannot be linked to a stock item because
// its SKU is empty, or shared with another live listing of the channel.
type ListingProblem struct {
	ProductID   int64  `json:"product_id"`
	VariantID   int64  `json:"variant_id"`
	SKU         string `json:"sku"`
	Name        string `json:"name"`
	VariantName string `json:"variant_name,omitempty"`
	Problem     string `json:"problem"` // "empty" or "duplicate"
}

// ListingProblems lists a channel's live listings with an SKU problem, empty SKUs
// first, then duplicates grouped by SKU, as the last finished download counted them.
func (s *Store) ListingProblems(ctx context.Context, channelID int64) ([]ListingProblem, error) {
	rows, err := s.Pool.Query(ctx, `SELECT product_id, variant_id, sku, name, variant_name, sku_problem
		FROM listings WHERE channel_id = $1 AND removed_at IS NULL AND sku_problem IS NOT NULL
		ORDER BY sku_problem DESC, sku, product_id, variant_id`, channelID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[ListingProblem])
}

// ListingCounts sums up a channel's listings.
type ListingCounts struct {
	Live          int `json:"live"`
	Removed       int `json:"removed"`
	Linked        int `json:"linked"` // live, without an SKU problem, and a stock item has the SKU
	EmptySKUs     int `json:"empty_skus"`
	DuplicateSKUs int `json:"duplicate_skus"`
}

// CountListings counts a channel's listings.
func (s *Store) CountListings(ctx context.Context, channelID int64) (ListingCounts, error) {
	var c ListingCounts
	err := s.Pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE l.removed_at IS NULL),
			count(*) FILTER (WHERE l.removed_at IS NOT NULL),
			count(*) FILTER (WHERE l.removed_at IS NULL AND l.sku_problem IS NULL AND s.sku IS NOT NULL),
			count(*) FILTER (WHERE l.removed_at IS NULL AND l.sku_problem = 'empty'),
			count(*) FILTER (WHERE l.removed_at IS NULL AND l.sku_problem = 'duplicate')
		FROM listings l LEFT JOIN stock_items s ON s.sku = l.sku WHERE l.channel_id = $1`, channelID).Scan(
		&c.Live, &c.Removed, &c.Linked, &c.EmptySKUs, &c.DuplicateSKUs)
	return c, err
}
