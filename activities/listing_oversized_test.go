package activities_test

import (
	"strings"
	"testing"

	"github.com/ekmsync/ekmsync/activities"
	"github.com/ekmsync/ekmsync/internal/ekmsim"
	"github.com/ekmsync/ekmsync/internal/store"
)

// A page of products with 900 KB names is over the client's 8 MiB body bound:
// it is fetched in smaller pages, and a product that does not fit even alone
// (9 MB name) is reported as a listing problem with the reason. The download
// completes; the listing the hub had of that product is not marked removed,
// since the check of unseen products finds it by id (and reports it too).
func TestOversizedProductPageIsFetchedInPiecesAndTheDownloadCompletes(t *testing.T) {
	ls := newListingShop(t, 40)
	download := func(runID string) store.ListingDownloadState {
		t.Helper()
		begun, err := run[activities.BeginListingResult](t, ls, ls.acts.BeginListingDownload, activities.BeginListingInput{Channel: "shop", RunID: runID})
		if err != nil || !begun.Began {
			t.Fatalf("begin: %+v, %v", begun, err)
		}
		var res activities.ListingPagesResult
		for calls := 0; !res.State.AllPagesDone(); calls++ {
			if calls > 10 {
				t.Fatalf("the download does not complete: %+v", res.State)
			}
			res, err = run[activities.ListingPagesResult](t, ls, ls.acts.DownloadListingPages,
				activities.ListingPagesInput{Channel: "shop", Generation: begun.State.Generation})
			if err != nil {
				t.Fatal(err)
			}
		}
		in := activities.ListingGenerationInput{Channel: "shop", Generation: begun.State.Generation}
		if _, err := run[activities.VerifyUnseenResult](t, ls, ls.acts.VerifyUnseenListings, in); err != nil {
			t.Fatal(err)
		}
		done, err := run[store.ListingDownloadState](t, ls, ls.acts.FinishListingDownload, in)
		if err != nil || done.InProgress || done.CompletionTime == nil || !strings.HasPrefix(done.LastOutcome, "completed") {
			t.Fatalf("finish: %+v, %v", done, err)
		}
		return done
	}
	first := download("r1")
	products := ls.sim.Products()
	big, huge := strings.Repeat("n", 900<<10), strings.Repeat("N", 9<<20)
	for i := range 10 {
		name := big
		if i == 3 {
			name = huge
		}
		if _, err := ls.sim.UpdateProduct(products[i].ID, ekmsim.ProductPatch{Name: &name}); err != nil {
			t.Fatal(err)
		}
	}
	before := ls.sim.RequestCounts()["GET /api/v1/products"]
	second := download("r2")
	if second.ListingsSeen != first.ListingsSeen || second.ListingsRemoved != 0 || second.BadProducts != 0 {
		t.Fatalf("after the oversized products: %+v; want %d listings seen, none removed", second, first.ListingsSeen)
	}
	problems, err := ls.db.Store.ProductProblems(t.Context(), ls.ch.ID)
	want := store.ProductKey(products[3].ID)
	if err != nil || len(problems) != 2 || problems[0].Key != want || problems[1].Key != "position:4" ||
		!strings.Contains(problems[1].Reason, "body bound") {
		t.Fatalf("listing problems = %+v, %v; want %s and position:4", problems, err, want)
	}
	if n := ls.sim.RequestCounts()["GET /api/v1/products"] - before; n > 20 {
		t.Errorf("%d product requests for 2 pages: the pieces are not bounded", n)
	}
}

// A shop that answers the same product page forever stops the download's call
// at the second page with an error that names it, committing only the first.
func TestListingPageThatRepeatsStopsTheCallWithAnErrorNamingIt(t *testing.T) {
	ls := newListingShop(t, 200)
	ls.sim.SetHostile(ekmsim.Hostile{RepeatPage: true})
	begun, err := run[activities.BeginListingResult](t, ls, ls.acts.BeginListingDownload, activities.BeginListingInput{Channel: "shop", RunID: "r1"})
	if err != nil || !begun.Began {
		t.Fatalf("begin: %+v, %v", begun, err)
	}
	_, err = run[activities.ListingPagesResult](t, ls, ls.acts.DownloadListingPages,
		activities.ListingPagesInput{Channel: "shop", Generation: begun.State.Generation})
	if err == nil || !strings.Contains(err.Error(), "page 2 with the same products as page 1") {
		t.Fatalf("err = %v, want the repeated page named", err)
	}
	if n := ls.sim.RequestCounts()["GET /api/v1/products"]; n > 2+3 {
		t.Errorf("%d product requests, want the call to stop at the repeat", n)
	}
	st, err := ls.db.Store.ListingDownload(t.Context(), ls.ch.ID)
	if err != nil || st.PagesDone != 1 {
		t.Fatalf("pages done = %d (%v), want 1", st.PagesDone, err)
	}
}
