package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// ListingRefresh is a channel's listing refresh as the hub keeps it
// (listing_refreshes): its cursor and its last run.
type ListingRefresh struct {
	// DownloadStartedAt is when the last finished listing download began.
	DownloadStartedAt *time.Time `json:"download_started_at,omitempty"`
	// ModifiedSince is the newest last_modified of a product the refreshes
	// committed (EKM's clock).
	ModifiedSince *time.Time `json:"modified_since,omitempty"`
	LastRunAt     *time.Time `json:"last_run_at,omitempty"`
	LastError     string     `json:"last_error,omitempty"`
	LastOKAt      *time.Time `json:"last_ok_at,omitempty"`
	// LastProducts and LastListings are what the last refresh that worked read
	// and upserted.
	LastProducts int `json:"last_products"`
	LastListings int `json:"last_listings"`
}

// From is the time the next refresh reads products modified since: the later of
// the cursor and the start of the last finished download, less margin (the two
// clocks may disagree, and EKM may commit a change after a later one). It is nil
// when there is neither: no finished download to refresh from.
func (r ListingRefresh) From(margin time.Duration) *time.Time {
	var at *time.Time
	for _, t := range []*time.Time{r.DownloadStartedAt, r.ModifiedSince} {
		if t != nil && (at == nil || t.After(*at)) {
			at = t
		}
	}
	if at == nil {
		return nil
	}
	from := at.Add(-margin)
	return &from
}

// ListingRefreshOf reads the channel's listing refresh; the zero value when it
// has none yet.
func (s *Store) ListingRefreshOf(ctx context.Context, channelID int64) (ListingRefresh, error) {
	var r ListingRefresh
	err := s.Pool.QueryRow(ctx, `SELECT download_started_at, modified_since, last_run_at, COALESCE(last_error, ''),
			last_ok_at, last_products, last_listings
		FROM listing_refreshes WHERE channel_id = $1`, channelID).Scan(&r.DownloadStartedAt, &r.ModifiedSince,
		&r.LastRunAt, &r.LastError, &r.LastOKAt, &r.LastProducts, &r.LastListings)
	if errors.Is(err, pgx.ErrNoRows) {
		return ListingRefresh{}, nil
	}
	return r, err
}

// ErrListingDownloadRunning is returned when a refresh would write while a full
// listing download runs: the download reads every product anyway, and its
// generation's counters are its own.
var ErrListingDownloadRunning = errors.New("a full listing download is in progress; it reads every product")

// RefreshPage is one page of products a refresh read, turned into listings.
type RefreshPage struct {
	Listings []Listing
	// Problems are the page's products that could not be read; the store adds
	// those it cannot store, as a download's page does.
	Problems []ProductProblem
	// FetchedAt is when the page was requested (see ListingPage.FetchedAt).
	FetchedAt time.Time
	// ModifiedUpTo is the newest last_modified of the page's products: the
	// cursor moves to it with the commit.
	ModifiedUpTo time.Time
}

// RefreshWrite is what one refresh page changed.
type RefreshWrite struct {
	// Upserted counts the listings written; Restored those of them that were
	// marked removed (their product is back on EKM).
	Upserted int
	Restored int
	// Problems counts the products recorded as listing problems.
	Problems int
}

// WriteRefreshPage commits one page of a refresh in one transaction, through the
// download's own path: the listings upserted as seen by the channel's current
// download generation (and no longer removed), the outbound ledger confirmed with
// what EKM showed, products that cannot be stored recorded as listing problems
// (a data error PostgreSQL raises sends each listing alone, as a download's page
// does), the SKU problems recounted, and the cursor moved to the page's newest
// last_modified. Nothing is marked removed. While a full download is in progress
// it writes nothing and returns ErrListingDownloadRunning.
func (s *Store) WriteRefreshPage(ctx context.Context, channelID int64, p RefreshPage) (RefreshWrite, error) {
	out, err := s.writeRefreshPage(ctx, channelID, p)
	if dataError(err) != nil {
		var gen int64
		if gen, err = s.currentGeneration(ctx, channelID); err != nil {
			return out, err
		}
		page := ListingPage{Listings: p.Listings, Problems: p.Problems, FetchedAt: p.FetchedAt}
		pages, err := s.refusedListings(ctx, channelID, gen, []ListingPage{page})
		if err != nil {
			return out, err
		}
		p.Listings, p.Problems = pages[0].Listings, pages[0].Problems
		out, err = s.writeRefreshPage(ctx, channelID, p)
	}
	if err != nil {
		return out, fmt.Errorf("write refreshed listings: %w", err)
	}
	return out, nil
}

func (s *Store) currentGeneration(ctx context.Context, channelID int64) (int64, error) {
	var gen int64
	err := s.Pool.QueryRow(ctx, `SELECT generation FROM listing_downloads WHERE channel_id = $1`, channelID).Scan(&gen)
	return gen, err
}

func (s *Store) writeRefreshPage(ctx context.Context, channelID int64, p RefreshPage) (RefreshWrite, error) {
	var out RefreshWrite
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		var gen int64
		var inProgress bool
		// The download's row lock orders the refresh with a download's pages and
		// finish: neither sees half of the other.
		err := tx.QueryRow(ctx, `SELECT generation, in_progress FROM listing_downloads WHERE channel_id = $1 FOR UPDATE`,
			channelID).Scan(&gen, &inProgress)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("channel %d: %w", channelID, ErrNotFound)
		}
		if err != nil {
			return err
		}
		if inProgress {
			return ErrListingDownloadRunning
		}
		ls, unfit := storableListings(p.Listings)
		problems := append(append([]ProductProblem{}, p.Problems...), unfit...)
		if err := recordProductProblems(ctx, tx, channelID, gen, problems); err != nil {
			return err
		}
		ls = dedupeListings(ls)
		d, err := upsertListings(ctx, tx, channelID, gen, ls, p.FetchedAt, true)
		if err != nil {
			return err
		}
		if err := recountSKUProblems(ctx, tx, channelID); err != nil {
			return err
		}
		if !p.ModifiedUpTo.IsZero() {
			if _, err := tx.Exec(ctx, `INSERT INTO listing_refreshes AS r (channel_id, modified_since) VALUES ($1, $2)
				ON CONFLICT (channel_id) DO UPDATE SET modified_since = GREATEST(r.modified_since, EXCLUDED.modified_since)`,
				channelID, p.ModifiedUpTo); err != nil {
				return err
			}
		}
		out = RefreshWrite{Upserted: len(ls), Restored: d.restored, Problems: len(problems)}
		return nil
	})
	return out, err
}

// RecordListingRefresh records a refresh of the channel that ended at at: the
// products it read and the listings it upserted when it worked, or why it failed
// (errMsg), and releases the scheduled claim.
func (s *Store) RecordListingRefresh(ctx context.Context, channelID int64, at time.Time, products, listings int, errMsg string) error {
	var e *string
	if errMsg != "" {
		m := truncate(Storable(errMsg), 2000)
		e = &m
	}
	_, err := s.Pool.Exec(ctx, `INSERT INTO listing_refreshes AS r (channel_id, last_run_at, last_error, last_ok_at,
			last_products, last_listings)
		VALUES ($1, $2::timestamptz, $3::text, CASE WHEN $3::text IS NULL THEN $2::timestamptz END, $4, $5)
		ON CONFLICT (channel_id) DO UPDATE SET last_run_at = EXCLUDED.last_run_at, last_error = EXCLUDED.last_error,
			claimed_until = NULL, claimed_by = NULL, last_ok_at = COALESCE(EXCLUDED.last_ok_at, r.last_ok_at),
			last_products = CASE WHEN $3::text IS NULL THEN EXCLUDED.last_products ELSE r.last_products END,
			last_listings = CASE WHEN $3::text IS NULL THEN EXCLUDED.last_listings ELSE r.last_listings END`,
		channelID, at, e, products, listings)
	return err
}

// ClaimDueRefresh claims, for owner and until lease has passed, one enabled
// channel whose scheduled listing refresh is due: listing_refresh_interval_seconds
// > 0, a finished download to refresh from, no download in progress, and that
// long since the last refresh or the last finished download's start, whichever is
// later; not claimed by a live claim. It returns false when none is due. Two
// workers never claim the same channel: the claim is taken under the row's lock.
func (s *Store) ClaimDueRefresh(ctx context.Context, owner string, lease time.Duration) (int64, bool, error) {
	var id int64
	err := s.Pool.QueryRow(ctx, `UPDATE listing_refreshes r SET claimed_until = now() + make_interval(secs => $2), claimed_by = $1
		WHERE r.channel_id = (
			SELECT r.channel_id FROM listing_refreshes r
			JOIN channels c ON c.id = r.channel_id
			JOIN listing_downloads d ON d.channel_id = r.channel_id
			WHERE c.enabled AND c.removed_at IS NULL AND c.listing_refresh_interval_seconds > 0 AND NOT d.in_progress
				AND COALESCE(r.download_started_at, r.modified_since) IS NOT NULL
				AND (r.claimed_until IS NULL OR r.claimed_until < now())
				AND GREATEST(r.last_run_at, r.download_started_at) + make_interval(secs => c.listing_refresh_interval_seconds) <= now()
			ORDER BY GREATEST(r.last_run_at, r.download_started_at) LIMIT 1
			FOR UPDATE OF r SKIP LOCKED)
			AND (r.claimed_until IS NULL OR r.claimed_until < now())
		RETURNING r.channel_id`, owner, lease.Seconds()).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	return id, err == nil, err
}
