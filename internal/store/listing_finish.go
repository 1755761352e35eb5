package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// UnseenListingProducts returns, by id, the products with live listings that
// generation gen has not seen: what its finish would mark removed.
func (s *Store) UnseenListingProducts(ctx context.Context, channelID, gen int64) ([]int64, error) {
	rows, err := s.Pool.Query(ctx, `SELECT DISTINCT product_id FROM listings
		WHERE channel_id = $1 AND seen_generation < $2 AND removed_at IS NULL ORDER BY product_id`, channelID, gen)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// MarkListingsSeen upserts listings that generation gen found outside its pages
// (products the pages skipped because the catalogue shifted under them) as seen,
// and counts them, like a page but without moving the page cursor.
func (s *Store) MarkListingsSeen(ctx context.Context, channelID, gen int64, ls []Listing, badProducts int, fetchedAt time.Time) (ListingDownloadState, error) {
	var out ListingDownloadState
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		if _, err := lockListingGeneration(ctx, tx, channelID, gen); err != nil {
			return err
		}
		ls, unfit := storableListings(ls)
		badProducts += len(unfit)
		if err := recordProductProblems(ctx, tx, channelID, gen, unfit); err != nil {
			return err
		}
		d, err := upsertListings(ctx, tx, channelID, gen, dedupeListings(ls), fetchedAt, true)
		if err != nil {
			return err
		}
		out, err = scanListingState(tx.QueryRow(ctx, `UPDATE listing_downloads SET listings_seen = listings_seen + $2,
				empty_skus = empty_skus + $3, duplicate_skus = duplicate_skus + $4, bad_products = bad_products + $5,
				listings_restored = listings_restored + $6, updated_at = now()
			WHERE channel_id = $1 RETURNING `+listingStateColumns,
			channelID, d.seen, d.empty, d.duplicates, badProducts, d.restored))
		return err
	})
	if err != nil {
		return out, fmt.Errorf("mark listings seen: %w", err)
	}
	return out, nil
}

// FinishListingDownload completes generation gen once all its pages are committed:
// listings it did not see are marked removed (never deleted), unless a product
// could not be read; SKU problems are recounted over the channel's live listings
// (empty, or shared by more than one); the Completion Time is set and the download
// is no longer in progress. A finish already committed returns the state again.
func (s *Store) FinishListingDownload(ctx context.Context, channelID, gen int64) (ListingDownloadState, error) {
	var out ListingDownloadState
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		var done *int64
		if err := tx.QueryRow(ctx, `SELECT completed_generation FROM listing_downloads WHERE channel_id = $1 FOR UPDATE`,
			channelID).Scan(&done); err != nil {
			return err
		}
		if done != nil && *done == gen {
			var err error
			out, err = scanListingState(tx.QueryRow(ctx, `SELECT `+listingStateColumns+` FROM listing_downloads WHERE channel_id = $1`, channelID))
			return err
		}
		st, err := lockListingGeneration(ctx, tx, channelID, gen)
		if err != nil {
			return err
		}
		if !st.AllPagesDone() {
			return fmt.Errorf("finish listing download: %d pages of %v done", st.PagesDone, st.PagesTotal)
		}
		removed := int64(0)
		complete := st.BadProducts == 0
		if complete {
			tag, err := tx.Exec(ctx, `UPDATE listings SET removed_at = now(), sku_problem = NULL, updated_at = now()
				WHERE channel_id = $1 AND seen_generation < $2 AND removed_at IS NULL`, channelID, gen)
			if err != nil {
				return err
			}
			removed = tag.RowsAffected()
		}
		if err := recountSKUProblems(ctx, tx, channelID); err != nil {
			return err
		}
		var seen, empty, dup int
		if err := tx.QueryRow(ctx, `SELECT count(*) FILTER (WHERE seen_generation = $2 AND removed_at IS NULL),
				count(*) FILTER (WHERE sku_problem = 'empty'), count(*) FILTER (WHERE sku_problem = 'duplicate')
			FROM listings WHERE channel_id = $1`, channelID, gen).Scan(&seen, &empty, &dup); err != nil {
			return err
		}
		outcome := fmt.Sprintf("completed: %d listings, %d marked removed, %d with an empty and %d with a duplicate SKU",
			seen, removed, empty, dup)
		if !complete {
			outcome = fmt.Sprintf("incomplete: %d products could not be read, so nothing was marked removed", st.BadProducts)
		}
		// Every product modified before the download began was read: a refresh
		// of the listings needs nothing older (listing_refresh.go).
		if _, err := tx.Exec(ctx, `INSERT INTO listing_refreshes AS r (channel_id, download_started_at) VALUES ($1, $2)
			ON CONFLICT (channel_id) DO UPDATE SET download_started_at = EXCLUDED.download_started_at`,
			channelID, st.StartTime); err != nil {
			return err
		}
		out, err = scanListingState(tx.QueryRow(ctx, `UPDATE listing_downloads SET in_progress = false,
				estimated_completion = NULL, completion_time = CASE WHEN $3 THEN now() ELSE completion_time END,
				completed_generation = $2, listings_seen = $4, empty_skus = $5, duplicate_skus = $6, listings_removed = $7,
				last_outcome = $8, updated_at = now()
			WHERE channel_id = $1 RETURNING `+listingStateColumns,
			channelID, gen, complete, seen, empty, dup, removed, outcome))
		return err
	})
	if err != nil {
		return out, fmt.Errorf("finish listing download: %w", err)
	}
	return out, nil
}

// recountSKUProblems sets every listing's SKU problem over the channel's live
// listings: an empty SKU, or one shared by more than one listing.
func recountSKUProblems(ctx context.Context, tx pgx.Tx, channelID int64) error {
	_, err := tx.Exec(ctx, `WITH dups AS (
			SELECT sku FROM listings WHERE channel_id = $1 AND removed_at IS NULL AND sku <> ''
			GROUP BY sku HAVING count(*) > 1),
		want AS (
			SELECT l.product_id, l.variant_id, CASE
				WHEN l.removed_at IS NOT NULL THEN NULL
				WHEN l.sku = '' THEN 'empty'
				WHEN d.sku IS NOT NULL THEN 'duplicate' END AS problem
			FROM listings l LEFT JOIN dups d ON d.sku = l.sku WHERE l.channel_id = $1)
		UPDATE listings l SET sku_problem = w.problem, updated_at = now() FROM want w
		WHERE l.channel_id = $1 AND l.product_id = w.product_id AND l.variant_id = w.variant_id
			AND l.sku_problem IS DISTINCT FROM w.problem`, channelID)
	return err
}
