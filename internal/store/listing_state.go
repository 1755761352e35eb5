package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// ListingDownloadState is the listing download's live state: the four fields of the
// channel screen and the progress behind them.
type ListingDownloadState struct {
	InProgress          bool       `json:"in_progress"`
	StartTime           *time.Time `json:"start_time"`
	CompletionTime      *time.Time `json:"completion_time"`
	EstimatedCompletion *time.Time `json:"estimated_completion"`
	Generation          int64      `json:"generation"`
	PagesDone           int        `json:"pages_done"`
	PagesTotal          *int       `json:"pages_total"`
	ProductsTotal       *int       `json:"products_total"`
	ListingsSeen        int        `json:"listings_seen"`
	EmptySKUs           int        `json:"empty_skus"`
	DuplicateSKUs       int        `json:"duplicate_skus"`
	BadProducts         int        `json:"bad_products"`
	ListingsRemoved     int        `json:"listings_removed"`
	ListingsRestored    int        `json:"listings_restored"`
	LastOutcome         string     `json:"last_outcome,omitempty"`
	UpdatedAt           time.Time  `json:"updated_at"`
}

// AllPagesDone reports whether every page of the generation is committed: the last
// page sets pages_total to its own number.
func (st ListingDownloadState) AllPagesDone() bool {
	return st.PagesTotal != nil && st.PagesDone >= *st.PagesTotal
}

// ErrListingGeneration is returned when a listing download writes to a generation
// that is no longer the channel's current one (a newer download began, or this one
// ended): its work must stop, not be retried.
var ErrListingGeneration = errors.New("listing download generation is no longer current")

// listingStateColumns are read by scanListingState, in this order.
const listingStateColumns = `in_progress, start_time, completion_time, estimated_completion, generation,
	pages_done, pages_total, products_total, listings_seen, empty_skus, duplicate_skus, bad_products,
	listings_removed, listings_restored, COALESCE(last_outcome, ''), updated_at`

func scanListingState(row pgx.Row) (ListingDownloadState, error) {
	var st ListingDownloadState
	err := row.Scan(&st.InProgress, &st.StartTime, &st.CompletionTime, &st.EstimatedCompletion, &st.Generation,
		&st.PagesDone, &st.PagesTotal, &st.ProductsTotal, &st.ListingsSeen, &st.EmptySKUs, &st.DuplicateSKUs, &st.BadProducts,
		&st.ListingsRemoved, &st.ListingsRestored, &st.LastOutcome, &st.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return st, ErrNotFound
	}
	return st, err
}

// ListingDownload reads a channel's listing download state.
func (s *Store) ListingDownload(ctx context.Context, channelID int64) (ListingDownloadState, error) {
	return scanListingState(s.Pool.QueryRow(ctx, `SELECT `+listingStateColumns+` FROM listing_downloads WHERE channel_id = $1`, channelID))
}

// ListingDownloadsInProgress counts the channels whose listing download is in
// progress, whichever worker runs it: the pace its slices share.
func (s *Store) ListingDownloadsInProgress(ctx context.Context) (int64, error) {
	var n int64
	err := s.Pool.QueryRow(ctx, `SELECT count(*) FROM listing_downloads WHERE in_progress`).Scan(&n)
	return n, err
}

// BeginListingDownload starts a new download generation of the channel: in
// progress from now, every counter back to zero, the total unknown. runID names
// the workflow run that asked, so that a retry of the same request returns the
// generation it began instead of beginning another.
func (s *Store) BeginListingDownload(ctx context.Context, channelID int64, runID string) (ListingDownloadState, error) {
	var out ListingDownloadState
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		// The row exists from channel creation; recreate it if it went missing.
		if _, err := tx.Exec(ctx, `INSERT INTO listing_downloads (channel_id) VALUES ($1) ON CONFLICT DO NOTHING`, channelID); err != nil {
			return err
		}
		var sameRun bool
		err := tx.QueryRow(ctx, `SELECT in_progress AND workflow_run_id IS NOT DISTINCT FROM $2
			FROM listing_downloads WHERE channel_id = $1 FOR UPDATE`, channelID, runID).Scan(&sameRun)
		if err != nil {
			return err
		}
		if !sameRun {
			_, err = tx.Exec(ctx, `UPDATE listing_downloads SET generation = generation + 1, in_progress = true,
				start_time = now(), estimated_completion = NULL, pages_done = 0, pages_total = NULL, products_total = NULL,
				listings_seen = 0, empty_skus = 0, duplicate_skus = 0, bad_products = 0, listings_restored = 0,
				workflow_run_id = $2, last_outcome = NULL, updated_at = now()
				WHERE channel_id = $1`, channelID, runID)
			if err != nil {
				return err
			}
		}
		out, err = scanListingState(tx.QueryRow(ctx, `SELECT `+listingStateColumns+` FROM listing_downloads WHERE channel_id = $1`, channelID))
		return err
	})
	if err != nil {
		return out, fmt.Errorf("begin listing download: %w", err)
	}
	return out, nil
}

// NoteListingOutcome records why a download did not begin (a disabled channel, one
// waiting for reauthorisation). Only one download of a channel runs at a time, so
// one left in progress by a run that was terminated is over: it ends here too.
func (s *Store) NoteListingOutcome(ctx context.Context, channelID int64, outcome string) error {
	_, err := s.Pool.Exec(ctx, `UPDATE listing_downloads SET in_progress = false, estimated_completion = NULL,
		last_outcome = $2, updated_at = now() WHERE channel_id = $1`, channelID, truncate(outcome, 500))
	return err
}

// EndListingDownload ends generation gen without completing it: it is no longer in
// progress and has no estimate, and nothing is marked removed (an incomplete
// download cannot know what EKM no longer has). The Completion Time stays that of
// the last complete download. Ending a generation that is not current is a no-op.
func (s *Store) EndListingDownload(ctx context.Context, channelID, gen int64, outcome string) (ListingDownloadState, error) {
	_, err := s.Pool.Exec(ctx, `UPDATE listing_downloads SET in_progress = false, estimated_completion = NULL,
		last_outcome = $3, updated_at = now() WHERE channel_id = $1 AND generation = $2 AND in_progress`,
		channelID, gen, truncate(outcome, 500))
	if err != nil {
		return ListingDownloadState{}, fmt.Errorf("end listing download: %w", err)
	}
	return s.ListingDownload(ctx, channelID)
}

// lockListingGeneration locks the channel's download row in tx and checks that gen
// is its current generation and still in progress.
func lockListingGeneration(ctx context.Context, tx pgx.Tx, channelID, gen int64) (ListingDownloadState, error) {
	st, err := scanListingState(tx.QueryRow(ctx, `SELECT `+listingStateColumns+` FROM listing_downloads
		WHERE channel_id = $1 FOR UPDATE`, channelID))
	if err != nil {
		return st, err
	}
	if st.Generation != gen || !st.InProgress {
		return st, fmt.Errorf("%w: generation %d, current %d (in progress: %t)", ErrListingGeneration, gen, st.Generation, st.InProgress)
	}
	return st, nil
}
