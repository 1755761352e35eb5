package activities_test

import (
	"strings"
	"testing"

	"github.com/ekmsync/ekmsync/activities"
	"github.com/ekmsync/ekmsync/internal/ekmsim"
	"github.com/ekmsync/ekmsync/internal/store"
)

// A page of products with 900 KB names is over the client's 8 MiB body bound:
// it is fetched in smaller pages, a product that does not fit even alone (9 MB
// name) is reported as a listing problem with the reason, and the download
// finishes with every other listing.
func TestOversizedProductPageIsFetchedInPiecesAndTheDownloadCompletes(t *testing.T) {
	ls := newListingShop(t, 40)
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
	begun, err := run[activities.BeginListingResult](t, ls, ls.acts.BeginListingDownload, activities.BeginListingInput{Channel: "shop", RunID: "r1"})
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
	done, err := run[store.ListingDownloadState](t, ls, ls.acts.FinishListingDownload,
		activities.ListingGenerationInput{Channel: "shop", Generation: begun.State.Generation})
	// Finished, every page done; marked incomplete (nothing removed), since the
	// product it could not read may be one of the listings it did not see.
	if err != nil || done.InProgress || !done.AllPagesDone() || !strings.Contains(done.LastOutcome, "incomplete") {
		t.Fatalf("finish: %+v, %v", done, err)
	}
	want := 0
	for i, p := range ls.sim.Products() {
		if i != 3 {
			want += max(1, len(p.Variants))
		}
	}
	if done.ListingsSeen != want || done.BadProducts != 1 {
		t.Fatalf("%d listings and %d bad products; want %d and 1", done.ListingsSeen, done.BadProducts, want)
	}
	problems, err := ls.db.Store.ProductProblems(t.Context(), ls.ch.ID)
	if err != nil || len(problems) != 1 || problems[0].Key != "position:4" || !strings.Contains(problems[0].Reason, "body bound") {
		t.Fatalf("listing problems = %+v, %v", problems, err)
	}
	if n := ls.sim.RequestCounts()["GET /api/v1/products"]; n > 20 {
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
