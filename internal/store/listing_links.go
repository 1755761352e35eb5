package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// SKU links (listing_links, docs/channel-semantics.md §10): a listing linked to a
// hub stock item whose SKU differs from its own. The push sends the linked item's
// stock and price to the listing, and the order lines of the listing's SKU take
// from the linked item; the migration's trigger re-processes those lines whenever a
// link is written, by these functions or by an integrator's SQL.

// ListingLink is a listing linked to a stock item.
type ListingLink struct {
	ListingKey
	ListingSKU  string     `json:"listing_sku"`
	Name        string     `json:"name"`
	VariantName string     `json:"variant_name,omitempty"`
	StockSKU    string     `json:"stock_sku"`
	RemovedAt   *time.Time `json:"removed_at,omitempty"` // the listing's: EKM no longer lists it
	UpdatedAt   time.Time  `json:"updated_at"`
}

// LinkResult is what LinkListing or UnlinkListing did.
type LinkResult struct {
	Channel string `json:"channel"`
	ListingKey
	ListingSKU string `json:"listing_sku"`
	// StockSKU is the stock item the listing takes from now: the linked one, or
	// after an unlink the one of its own SKU ("" when there is none).
	StockSKU string `json:"stock_sku"`
	// Previous is the stock SKU the listing was linked to before ("": none).
	Previous string `json:"previous,omitempty"`
	Changed  bool   `json:"changed"`
	// LinesRelinked counts the channel's order lines of the listing's SKU whose
	// stock item changed; OpenLines and Reserved are the lines of open orders now
	// taking from StockSKU, and the quantity they reserve.
	LinesRelinked int   `json:"lines_relinked"`
	OpenLines     int   `json:"open_lines"`
	Reserved      int64 `json:"reserved"`
}

// ListingByRef finds a channel's listing by product and variant id, or (with sku
// set) by its SKU, which must name exactly one listing that is not removed.
func (s *Store) ListingByRef(ctx context.Context, channelID int64, channelName string, key ListingKey, sku string) (StoredListing, error) {
	where, args := `product_id = $2 AND variant_id = $3`, []any{channelID, key.ProductID, key.VariantID}
	name := listingName(key)
	if sku != "" {
		where, args, name = `sku = $2 AND removed_at IS NULL`, []any{channelID, sku}, "SKU "+sku
	}
	found, err := s.storedListings(ctx, `channel_id = $1 AND `+where+` ORDER BY product_id, variant_id LIMIT 3`, args...)
	switch {
	case err != nil:
		return StoredListing{}, err
	case len(found) == 0:
		return StoredListing{}, fmt.Errorf("channel %s has no listing with %s: %w (its listings: 'starter listings unlinked %s' and "+
			"'starter listings links %s'; a product new to EKM comes with 'starter listings download %s')",
			channelName, name, ErrNotFound, channelName, channelName, channelName)
	case len(found) > 1:
		var ids []string
		for _, l := range found {
			ids = append(ids, l.Key().Ref())
		}
		return StoredListing{}, fmt.Errorf("%s names several listings of channel %s (%s...): name the listing by its ids instead, "+
			"as <product id> or <product id>/<variant id>", name, channelName, strings.Join(ids, ", "))
	}
	return found[0], nil
}

// LinkListing links a listing of the channel to the stock item stockSKU (which
// must exist), or confirms the link it has, and re-processes the order lines of
// the listing's SKU. Linking again to the same item changes nothing but re-runs the
// re-processing, which is idempotent.
func (s *Store) LinkListing(ctx context.Context, channelID int64, channelName string, l StoredListing, stockSKU, actor string) (LinkResult, error) {
	stockSKU = strings.TrimSpace(stockSKU)
	res := LinkResult{Channel: channelName, ListingKey: l.Key(), ListingSKU: l.SKU, StockSKU: stockSKU}
	if stockSKU == "" {
		return res, errors.New("the stock SKU is empty: name the hub stock item to link the listing to")
	}
	if l.RemovedAt != nil {
		return res, fmt.Errorf("listing %s of channel %s was removed from the shop (EKM no longer lists it since %s): nothing to link",
			l.Key().Ref(), channelName, l.RemovedAt.UTC().Format(time.RFC3339))
	}
	err := s.relink(ctx, channelID, l, &res, AuditEntry{Action: "listing.link", Actor: actor}, func(tx pgx.Tx) error {
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM stock_items WHERE sku = $1)`, stockSKU).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return fmt.Errorf("no stock item has SKU %s: %w (add it with 'starter stock set %s <level>' or an INSERT into stock_items, then link again)",
				stockSKU, ErrNotFound, stockSKU)
		}
		_, err := tx.Exec(ctx, `INSERT INTO listing_links (channel_id, product_id, variant_id, stock_sku) VALUES ($1, $2, $3, $4)
			ON CONFLICT (channel_id, product_id, variant_id) DO UPDATE SET stock_sku = EXCLUDED.stock_sku,
				updated_at = CASE WHEN listing_links.stock_sku = EXCLUDED.stock_sku THEN listing_links.updated_at ELSE now() END`,
			channelID, l.ProductID, l.VariantID, stockSKU)
		return err
	})
	return res, err
}

// UnlinkListing removes a listing's link, if it has one: the listing takes from
// the stock item of its own SKU again, and so do the open order lines of that SKU.
func (s *Store) UnlinkListing(ctx context.Context, channelID int64, channelName string, l StoredListing, actor string) (LinkResult, error) {
	res := LinkResult{Channel: channelName, ListingKey: l.Key(), ListingSKU: l.SKU}
	err := s.relink(ctx, channelID, l, &res, AuditEntry{Action: "listing.unlink", Actor: actor}, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM listing_links WHERE channel_id = $1 AND product_id = $2 AND variant_id = $3`,
			channelID, l.ProductID, l.VariantID)
		return err
	})
	return res, err
}

// relink runs write (which changes the listing's link) in a transaction that
// locks the listing, and fills res: the link before and after, the order lines
// whose stock item changed, and what the open ones reserve now. A change of the
// link is audited as entry (its action and actor) in the same transaction.
func (s *Store) relink(ctx context.Context, channelID int64, l StoredListing, res *LinkResult, entry AuditEntry, write func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT 1 FROM listings WHERE channel_id = $1 AND product_id = $2 AND variant_id = $3 FOR UPDATE`,
			channelID, l.ProductID, l.VariantID); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT COALESCE((SELECT stock_sku FROM listing_links
				WHERE channel_id = $1 AND product_id = $2 AND variant_id = $3), '')`,
			channelID, l.ProductID, l.VariantID).Scan(&res.Previous); err != nil {
			return err
		}
		before, err := lineStock(ctx, tx, channelID, l.SKU)
		if err != nil {
			return err
		}
		if err := write(tx); err != nil {
			return err
		}
		after, err := lineStock(ctx, tx, channelID, l.SKU)
		if err != nil {
			return err
		}
		for k, v := range after {
			if before[k] != v {
				res.LinesRelinked++
			}
		}
		var link string
		err = tx.QueryRow(ctx, `SELECT COALESCE(k.stock_sku, ''), COALESCE(k.stock_sku, s.sku, '')
			FROM (SELECT 1) one
				LEFT JOIN listing_links k ON k.channel_id = $1 AND k.product_id = $2 AND k.variant_id = $3
				LEFT JOIN stock_items s ON s.sku = $4 AND $4 <> ''`,
			channelID, l.ProductID, l.VariantID, l.SKU).Scan(&link, &res.StockSKU)
		if err != nil {
			return err
		}
		if res.Changed = link != res.Previous; res.Changed {
			entry.ChannelID, entry.Channel, entry.Subject = channelID, res.Channel, l.Key().Ref()
			entry.OldValue, entry.NewValue = res.Previous, link
			entry.Detail = map[string]any{"listing_sku": l.SKU, "lines_relinked": res.LinesRelinked}
			if err := audit(ctx, tx, entry); err != nil {
				return err
			}
		}
		if err := tx.QueryRow(ctx, `SELECT count(*), COALESCE(sum(GREATEST(l.quantity - l.cancelled_quantity, 0)), 0)::bigint
			FROM order_lines l JOIN orders o ON o.id = l.order_id
			WHERE o.channel_id = $1 AND o.status = 'open' AND l.sku = $2 AND COALESCE(l.stock_sku, l.sku) = $3`,
			channelID, l.SKU, res.StockSKU).Scan(&res.OpenLines, &res.Reserved); err != nil {
			return err
		}
		return nil
	})
}

// lineStock returns the stock SKU each order line of the channel with this SKU
// takes from, by order and item id.
func lineStock(ctx context.Context, tx pgx.Tx, channelID int64, sku string) (map[[2]int64]string, error) {
	rows, err := tx.Query(ctx, `SELECT l.order_id, l.ekm_item_id, COALESCE(l.stock_sku, '') FROM order_lines l
		JOIN orders o ON o.id = l.order_id WHERE o.channel_id = $1 AND l.sku = $2`, channelID, sku)
	if err != nil {
		return nil, err
	}
	out := map[[2]int64]string{}
	var k [2]int64
	var v string
	_, err = pgx.ForEachRow(rows, []any{&k[0], &k[1], &v}, func() error {
		out[k] = v
		return nil
	})
	return out, err
}

// ListingLinks returns a channel's links, by product and variant id.
func (s *Store) ListingLinks(ctx context.Context, channelID int64) ([]ListingLink, error) {
	rows, err := s.Pool.Query(ctx, `SELECT li.product_id, li.variant_id, li.sku, li.name, li.variant_name, k.stock_sku,
			li.removed_at, k.updated_at
		FROM listing_links k JOIN listings li USING (channel_id, product_id, variant_id)
		WHERE k.channel_id = $1 ORDER BY li.product_id, li.variant_id`, channelID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[ListingLink])
}

// UnlinkedListing is a live listing that takes from no stock item: it has no
// link, and its SKU is empty, shared with another live listing, or the SKU of no
// stock item. The push sends it nothing.
type UnlinkedListing struct {
	ListingKey
	SKU         string `json:"sku"`
	Name        string `json:"name"`
	VariantName string `json:"variant_name,omitempty"`
	// Reason is "empty" (no SKU), "duplicate" (its SKU is another live listing's
	// too) or "no stock item" (no stock item has its SKU).
	Reason string `json:"reason"`
}

// unlinkedListingsSQL selects a channel's ($1) unlinked live listings.
const unlinkedListingsSQL = `FROM listings li
	WHERE li.channel_id = $1 AND li.removed_at IS NULL
		AND NOT ` + hasLinkSQL + `
		AND (li.sku_problem IS NOT NULL OR li.sku = '' OR NOT EXISTS (SELECT 1 FROM stock_items s WHERE s.sku = li.sku))`

// UnlinkedListings returns up to limit of a channel's unlinked live listings (SKU
// problems first), and how many there are.
func (s *Store) UnlinkedListings(ctx context.Context, channelID int64, limit int) ([]UnlinkedListing, int, error) {
	var total int
	if err := s.Pool.QueryRow(ctx, `SELECT count(*) `+unlinkedListingsSQL, channelID).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := s.Pool.Query(ctx, `SELECT li.product_id, li.variant_id, li.sku, li.name, li.variant_name,
			CASE WHEN li.sku = '' OR li.sku_problem = 'empty' THEN 'empty' WHEN li.sku_problem = 'duplicate' THEN 'duplicate'
				ELSE 'no stock item' END AS reason
		`+unlinkedListingsSQL+`
		ORDER BY li.sku_problem IS NULL AND li.sku <> '', li.sku, li.product_id, li.variant_id LIMIT $2`, channelID, limit)
	if err != nil {
		return nil, 0, err
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[UnlinkedListing])
	return out, total, err
}

// Ref names the listing as the CLI takes it: "<product id>", or
// "<product id>/<variant id>" for a variant.
func (k ListingKey) Ref() string {
	if k.VariantID == 0 {
		return fmt.Sprint(k.ProductID)
	}
	return fmt.Sprintf("%d/%d", k.ProductID, k.VariantID)
}

// listingName names a listing in a sentence.
func listingName(k ListingKey) string {
	if k.VariantID == 0 {
		return fmt.Sprintf("product id %d", k.ProductID)
	}
	return fmt.Sprintf("product id %d and variant id %d", k.ProductID, k.VariantID)
}
