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
	return s.storedListings(ctx, `channel_id = $1 ORDER BY product_id, variant_id`, channelID)
}

// storedListings returns the listings that where (a condition and an order on
// listings, with its arguments) selects.
func (s *Store) storedListings(ctx context.Context, where string, args ...any) ([]StoredListing, error) {
	rows, err := s.Pool.Query(ctx, `SELECT product_id, variant_id, sku, name, variant_name, live,
			COALESCE(ekm_price, 0)::float8, COALESCE(ekm_stock, 0), COALESCE(sku_problem, ''), seen_generation, removed_at
		FROM listings WHERE `+where, args...)
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

// Key is the listing's product and variant id.
func (l Listing) Key() ListingKey { return ListingKey{ProductID: l.ProductID, VariantID: l.VariantID} }

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

// ListingProblems lists a channel's live listings with an SKU problem and no
// listing link (a link makes the SKU irrelevant), empty SKUs first, then
// duplicates grouped by SKU, as the last finished download counted them.
func (s *Store) ListingProblems(ctx context.Context, channelID int64) ([]ListingProblem, error) {
	rows, err := s.Pool.Query(ctx, `SELECT product_id, variant_id, sku, name, variant_name, sku_problem
		FROM listings li WHERE channel_id = $1 AND removed_at IS NULL AND sku_problem IS NOT NULL AND NOT `+hasLinkSQL+`
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
	Linked        int `json:"linked"` // live, and linked by a listing link, or else by an SKU without a problem that a stock item has
	Links         int `json:"links"`  // live, and linked by a listing link
	EmptySKUs     int `json:"empty_skus"`
	DuplicateSKUs int `json:"duplicate_skus"` // as EmptySKUs, live, without a link
}

// hasLinkSQL is true of a listing li with a listing link.
const hasLinkSQL = `EXISTS (SELECT 1 FROM listing_links k
	WHERE k.channel_id = li.channel_id AND k.product_id = li.product_id AND k.variant_id = li.variant_id)`

// CountListings counts a channel's listings.
func (s *Store) CountListings(ctx context.Context, channelID int64) (ListingCounts, error) {
	var c ListingCounts
	err := s.Pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE li.removed_at IS NULL),
			count(*) FILTER (WHERE li.removed_at IS NOT NULL),
			count(*) FILTER (WHERE li.removed_at IS NULL AND (link OR li.sku_problem IS NULL AND s.sku IS NOT NULL)),
			count(*) FILTER (WHERE li.removed_at IS NULL AND link),
			count(*) FILTER (WHERE li.removed_at IS NULL AND NOT link AND li.sku_problem = 'empty'),
			count(*) FILTER (WHERE li.removed_at IS NULL AND NOT link AND li.sku_problem = 'duplicate')
		FROM listings li LEFT JOIN stock_items s ON s.sku = li.sku, LATERAL (SELECT `+hasLinkSQL+` AS link) k
		WHERE li.channel_id = $1`, channelID).Scan(
		&c.Live, &c.Removed, &c.Linked, &c.Links, &c.EmptySKUs, &c.DuplicateSKUs)
	return c, err
}
