// Package refresh is the listing refresh (docs/channel-semantics.md §9): between
// full listing downloads, it reads the products EKM modified since the last
// download or refresh through the products search (a last_modified filter,
// docs/ekm-api.md §7) and upserts their listings through the download's own store
// path, problems recorded the same way. It never marks a listing removed: a
// product deleted on EKM is not in any search, so the full download stays the
// fallback and the only source of removals.
//
// ASSUMED (docs/ekm-api.md §7): EKM's products search takes
// "last_modified gt datetime'...'" with orderby=last_modified, ties in ascending
// id order, and a change to a variant moves its master product's last_modified.
// Where the search refuses the filter or answers out of its order, Run fails
// saying so (searchError, key.after), and the full download still runs.
package refresh

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/ekm"
	"github.com/ekmsync/ekmsync/internal/store"
)

// Margin is how far before its cursor a refresh reads again: the cursor is EKM's
// last_modified, or the hub's clock when it is the start of the last download,
// and the two may disagree; EKM may also commit a change after a later one.
// Reading a product again costs nothing but its share of a page.
const Margin = 10 * time.Minute

// MaxPages bounds the pages one refresh reads (10,000 products): the cursor moves
// with every page, so the next refresh goes on where this one stopped. A refresh
// that needs more is one the full download does better.
const MaxPages = 500

// Result is what one refresh did.
type Result struct {
	Channel string    `json:"channel"`
	At      time.Time `json:"at"`
	// From is the time it read the products modified since; nil when it read
	// nothing (Skipped says why).
	From *time.Time `json:"from,omitempty"`
	// Cursor is the newest last_modified of a product committed (the next
	// refresh reads from it less Margin).
	Cursor   *time.Time `json:"cursor,omitempty"`
	Pages    int        `json:"pages"`
	Products int        `json:"products"`
	// Listings counts the listings upserted; Restored those that were marked
	// removed (their product is back on EKM); Problems the products recorded
	// as listing problems ('starter listings problems').
	Listings int `json:"listings"`
	Restored int `json:"restored"`
	Problems int `json:"problems"`
	// More says it stopped after MaxPages: the next refresh goes on.
	More bool `json:"more,omitempty"`
	// Skipped says why it read nothing, or stopped (a download began).
	Skipped string `json:"skipped,omitempty"`
}

// Run refreshes the channel's listings from c (at listing priority, so orders
// and stock go first) and records the run in the hub (listing_refreshes), where
// 'listings status' and 'channel show' read it. Each page is committed with the
// cursor; a refresh that fails keeps what it committed.
func Run(ctx context.Context, st *store.Store, c *ekm.Client, s channel.Settings) (Result, error) {
	res, err := run(ekm.WithPriority(ctx, ekm.PriorityListings), st, c, s)
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	// Recorded even when the caller's context ended: the claim must be released.
	rec, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if recErr := st.RecordListingRefresh(rec, s.ID, res.At, res.Products, res.Listings, msg); recErr != nil {
		return res, errors.Join(err, fmt.Errorf("record the refresh: %w", recErr))
	}
	return res, err
}

func run(ctx context.Context, st *store.Store, c *ekm.Client, s channel.Settings) (Result, error) {
	res := Result{Channel: s.Name, At: time.Now()}
	state, err := st.ListingRefreshOf(ctx, s.ID)
	if err != nil {
		return res, err
	}
	dl, err := st.ListingDownload(ctx, s.ID)
	if err != nil {
		return res, err
	}
	res.From = state.From(Margin)
	switch {
	case dl.InProgress:
		res.From, res.Skipped = nil, store.ErrListingDownloadRunning.Error()
		return res, nil
	case res.From == nil:
		res.Skipped = "no listing download has finished yet, so there is nothing to refresh from: " +
			"'starter listings download " + s.Name + "' runs one"
		return res, nil
	}
	k := key{at: *res.From}
	for res.Pages < MaxPages {
		fetchedAt := time.Now()
		page, err := c.SearchProductsRaw(ctx, ekm.SearchOptions{Query: ekm.KeyAfter("last_modified", k.at, k.id),
			OrderBy: "last_modified", Limit: ekm.MaxPageSize})
		if err != nil {
			return res, searchError(err)
		}
		next, err := k.after(page.Items)
		if err != nil {
			return res, err
		}
		if len(page.Items) == 0 {
			return res, nil
		}
		listings, bad := store.ListingsOf(page.Items)
		w, err := st.WriteRefreshPage(ctx, s.ID, store.RefreshPage{Listings: listings, Problems: store.ProblemsOf(bad),
			FetchedAt: fetchedAt, ModifiedUpTo: next.at})
		if errors.Is(err, store.ErrListingDownloadRunning) {
			res.Skipped = "stopped: " + err.Error()
			return res, nil
		}
		if err != nil {
			return res, err
		}
		res.Pages++
		res.Products += len(page.Items)
		res.Listings += w.Upserted
		res.Restored += w.Restored
		res.Problems += w.Problems
		if next != k {
			cursor := next.at
			res.Cursor = &cursor
		}
		if len(page.Items) < ekm.MaxPageSize {
			return res, nil
		}
		k = next
	}
	res.More = true
	return res, nil
}

// searchError says what a refused search means for the refresh.
func searchError(err error) error {
	if e := ekm.AsError(err); e != nil && e.Kind == ekm.KindBadRequest {
		return fmt.Errorf("EKM's product search refused the last_modified filter, so this shop cannot be refreshed between "+
			"downloads (the full listing download still keeps its listings; 'listing-refresh-interval=0' stops trying): %w", err)
	}
	return err
}
