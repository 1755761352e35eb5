package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/ekmsync/ekmsync/internal/ekm"
	"github.com/ekmsync/ekmsync/internal/order"
	"github.com/ekmsync/ekmsync/internal/store"
)

// VerifyUnseenListings asks EKM, 20 at a time by id, for the products whose
// listings the generation's pages did not show, before the finish marks them
// removed. The product list is paged by position: a product deleted on a page
// already read moves every later one a place forward, so the product at the next
// page's top is never seen although it still exists. Those found are marked seen;
// only the products EKM no longer has stay unseen. It costs a request per 20
// unseen products, usually the few deleted since the last download. A retry
// starts again with the products still unseen.
func (a *Activities) VerifyUnseenListings(ctx context.Context, in ListingGenerationInput) (VerifyUnseenResult, error) {
	var res VerifyUnseenResult
	s, err := a.settings(ctx, in.Channel)
	if err != nil {
		return res, err
	}
	if err := listingGate(s.Status()); err != nil {
		return res, err
	}
	ids, err := a.Store.UnseenListingProducts(ctx, s.ID, in.Generation)
	if err != nil || len(ids) == 0 {
		return res, err
	}
	res.Unseen = len(ids)
	client, err := a.Shop.Client(ctx, s)
	if err != nil {
		return res, err
	}
	var checked atomic.Int64
	defer keepAlive(ctx, &checked)()
	ctx = ekm.WithPriority(ctx, ekm.PriorityListings)
	for batch := range slices.Chunk(ids, ekm.MaxPageSize) {
		at := time.Now()
		items, tooLarge, err := productsByID(ctx, client, batch)
		if ekm.KindOf(err) == ekm.KindBadRequest {
			// ASSUMED (docs/ekm-api.md §7): EKM's search takes "id eq 1 or id eq 2". If it
			// does not, the finish marks the unseen listings removed unchecked.
			res.Skipped = "EKM refused the search by id: " + reason(err)
			return res, a.Store.RecordError(ctx, s.ID, "listings", "listing download: unseen products not checked: "+res.Skipped)
		}
		if err != nil {
			return res, classify(err)
		}
		if len(tooLarge) > 0 {
			// EKM has them, the hub cannot read them: their listings stay.
			if err := a.Store.KeepProductsSeen(ctx, s.ID, in.Generation, tooLarge); err != nil {
				return res, listingSuperseded(err)
			}
			res.Found += len(tooLarge)
		}
		asked := map[int64]bool{}
		for _, id := range batch {
			asked[id] = true
		}
		listings, bad := store.ListingsOf(items)
		listings = slices.DeleteFunc(listings, func(l store.Listing) bool { return !asked[l.ProductID] })
		if len(listings) > 0 || len(bad) > 0 {
			if res.State, err = listingState(a.Store.MarkListingsSeen(ctx, s.ID, in.Generation, listings, len(bad), at)); err != nil {
				return res, listingSuperseded(err)
			}
		}
		res.Found += listingProductCount(listings)
		checked.Add(int64(len(batch)))
	}
	if res.State.Generation == 0 {
		res.State, err = listingState(a.Store.ListingDownload(ctx, s.ID))
	}
	return res, err
}

// listingProductCount counts the distinct products among listings.
func listingProductCount(ls []store.Listing) int {
	seen := map[int64]bool{}
	for _, l := range ls {
		seen[l.ProductID] = true
	}
	return len(seen)
}

// productsByID searches up to ekm.MaxPageSize products by id. A batch whose
// answer is over the client's body bound is asked for in halves, down to one
// id; a product too large on its own is returned as a problem instead.
func productsByID(ctx context.Context, client *ekm.Client, ids []int64) ([]json.RawMessage, []store.ProductProblem, error) {
	p, err := client.SearchProductsRaw(ctx, ekm.SearchOptions{Query: order.IDFilter(ids), OrderBy: "id", Limit: ekm.MaxPageSize})
	if !errors.Is(err, ekm.ErrBodyTooLarge) {
		return p.Items, nil, err
	}
	if len(ids) == 1 {
		id := ids[0]
		return nil, []store.ProductProblem{{Key: store.ProductKey(id), ProductID: &id, Reason: order.ClipReason(fmt.Sprintf(
			"product %d does not fit the client's body bound even alone, so its listings are kept as they were: %s", id, reason(err)))}}, nil
	}
	half := len(ids) / 2
	first, firstProblems, err := productsByID(ctx, client, ids[:half])
	if err != nil {
		return nil, nil, err
	}
	rest, restProblems, err := productsByID(ctx, client, ids[half:])
	if err != nil {
		return nil, nil, err
	}
	return append(first, rest...), append(firstProblems, restProblems...), nil
}
