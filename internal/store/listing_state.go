package store

import (
	"context"
	"time"
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
	LastOutcome         string     `json:"last_outcome,omitempty"`
	UpdatedAt           time.Time  `json:"updated_at"`
}

// ListingDownload reads a channel's listing download state.
func (s *Store) ListingDownload(ctx context.Context, channelID int64) (ListingDownloadState, error) {
	var st ListingDownloadState
	err := s.Pool.QueryRow(ctx, `SELECT in_progress, start_time, completion_time, estimated_completion, generation,
			pages_done, pages_total, products_total, listings_seen, empty_skus, duplicate_skus, COALESCE(last_outcome, ''), updated_at
		FROM listing_downloads WHERE channel_id = $1`, channelID).Scan(
		&st.InProgress, &st.StartTime, &st.CompletionTime, &st.EstimatedCompletion, &st.Generation,
		&st.PagesDone, &st.PagesTotal, &st.ProductsTotal, &st.ListingsSeen, &st.EmptySKUs, &st.DuplicateSKUs, &st.LastOutcome, &st.UpdatedAt)
	return st, err
}
