package contract

import (
	"time"

	"github.com/ekmsync/ekmsync/internal/channel"
)

// The listing download activities' contract (docs/channel-semantics.md §5).

// ListingDownloadState is a channel's listing download as the workflows and the
// operator side see it: the hub's row (store.ListingDownloadState, which the
// activities convert), with the same fields and JSON names, so that recorded
// histories and query answers keep their shape.
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

// BeginListingInput asks to begin a listing download of a channel.
type BeginListingInput struct {
	Channel string `json:"channel"`
	// RunID is the workflow run that asks: a retried request returns the
	// generation this run began instead of beginning another.
	RunID string `json:"run_id"`
}

// BeginListingResult is the channel's state and, when it could begin, the new
// download generation.
type BeginListingResult struct {
	Status channel.Status       `json:"status"`
	Began  bool                 `json:"began"`
	State  ListingDownloadState `json:"state"`
}

// ListingGenerationInput names one download generation of a channel.
type ListingGenerationInput struct {
	Channel    string `json:"channel"`
	Generation int64  `json:"generation"`
}

// EndListingInput ends a generation without completing it.
type EndListingInput struct {
	Channel    string `json:"channel"`
	Generation int64  `json:"generation"`
	// Outcome says in words why it ended, e.g. "stopped: channel is disabled".
	Outcome string `json:"outcome"`
	// Failed records the outcome among the channel's errors too.
	Failed bool `json:"failed,omitempty"`
}

// ListingPagesInput asks for a slice of a download generation's pages.
type ListingPagesInput struct {
	Channel    string `json:"channel"`
	Generation int64  `json:"generation"`
	// Slice is how long to keep fetching; zero means DefaultListingSlice.
	Slice time.Duration `json:"slice,omitempty"`
	// PerPage is the work time per page observed so far (budget waits excluded),
	// carried from call to call for the estimate.
	PerPage time.Duration `json:"per_page,omitempty"`
}

// ListingPagesResult is the state after a slice.
type ListingPagesResult struct {
	State ListingDownloadState `json:"state"`
	// Status is the channel's state when the slice began.
	Status channel.Status `json:"status"`
	// Pages is how many pages this call committed.
	Pages int `json:"pages"`
	// PerPage is the updated work time per page.
	PerPage time.Duration `json:"per_page"`
	// Starved says the slice ended while a page waited for rate budget that
	// order and stock traffic were using.
	Starved bool `json:"starved,omitempty"`
}

// VerifyUnseenResult says what the check of the unseen products found.
type VerifyUnseenResult struct {
	State ListingDownloadState `json:"state"`
	// Unseen is how many products with live listings the pages did not show.
	Unseen int `json:"unseen"`
	// Found is how many of them EKM still has: the pages skipped them.
	Found int `json:"found"`
	// Skipped says why they could not be checked (EKM refused the search), or "".
	Skipped string `json:"skipped,omitempty"`
}
