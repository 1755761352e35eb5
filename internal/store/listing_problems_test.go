package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ekmsync/ekmsync/internal/store"
	"github.com/ekmsync/ekmsync/internal/store/storetest"
)

// A page with a product whose price does not fit the listings' column, and one
// name with NUL and invalid UTF-8, stores the rest (names made storable), lists
// the product that could not be stored with the reason and counts it as bad; a
// later complete download that no longer sees the problem drops it.
func TestListingPageStoresWhatFitsAndRecordsProductProblems(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	c := newChannel(t, db.Store, "shop")
	begun, err := db.Store.BeginListingDownload(ctx, c.ID, "run-1")
	if err != nil {
		t.Fatal(err)
	}
	huge := listing(2, 0, "B")
	huge.Price = 1e12
	dirty := listing(3, 0, "C")
	dirty.Name = "Mug\x00\xff"
	st, err := db.Store.WriteListingPages(ctx, c.ID, begun.Generation, store.ListingPage{Number: 1, PagesTotal: 1, Last: true,
		FetchedAt: time.Now(), BadProducts: 1, Listings: []store.Listing{listing(1, 0, "A"), huge, dirty},
		Problems: []store.ProductProblem{{Key: "position:4", Reason: "too large for the body bound on its own"}}})
	if err != nil {
		t.Fatal(err)
	}
	if st.ListingsSeen != 2 || st.BadProducts != 2 {
		t.Fatalf("state = %+v; want 2 listings seen and 2 bad products", st)
	}
	var name string
	if err := db.Pool.QueryRow(ctx, `SELECT name FROM listings WHERE product_id = 3`).Scan(&name); err != nil || name != "Mug\uFFFD\uFFFD" {
		t.Fatalf("stored name %q, %v", name, err)
	}
	problems, err := db.Store.ProductProblems(ctx, c.ID)
	if err != nil || len(problems) != 2 || problems[0].Key != "product:2" || !strings.Contains(problems[0].Reason, "price 1e+12") ||
		problems[1].Key != "position:4" {
		t.Fatalf("problems = %+v, %v", problems, err)
	}
	if _, err := db.Store.FinishListingDownload(ctx, c.ID, begun.Generation); err != nil {
		t.Fatal(err)
	}
	download(t, db.Store, c.ID, "run-2", []store.Listing{listing(1, 0, "A"), listing(2, 0, "B"), listing(3, 0, "C")})
	if problems, err = db.Store.ProductProblems(ctx, c.ID); err != nil || len(problems) != 0 {
		t.Fatalf("problems after a clean download = %+v, %v", problems, err)
	}
}

// A constraint the hub added refuses a listing for a reason the checks do not
// foresee: the listing is a product problem with PostgreSQL's message, counted
// as bad, and the rest of the page is written.
func TestListingRefusedByAHubConstraintIsAProblemAndTheRestLands(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	c := newChannel(t, db.Store, "shop")
	if _, err := db.Pool.Exec(ctx, `ALTER TABLE listings ADD CONSTRAINT no_poison CHECK (sku <> 'POISON')`); err != nil {
		t.Fatal(err)
	}
	begun, err := db.Store.BeginListingDownload(ctx, c.ID, "run-1")
	if err != nil {
		t.Fatal(err)
	}
	huge := listing(4, 0, "D")
	huge.Price = 1e12
	st, err := db.Store.WriteListingPages(ctx, c.ID, begun.Generation, store.ListingPage{Number: 1, PagesTotal: 1,
		Last: true, FetchedAt: time.Now(), Listings: []store.Listing{listing(1, 0, "A"), listing(2, 0, "POISON"), listing(3, 0, "C"), huge}})
	if err != nil {
		t.Fatal(err)
	}
	if st.PagesDone != 1 || st.ListingsSeen != 2 || st.BadProducts != 2 {
		t.Fatalf("state = %+v; want the page done, 2 listings seen, 2 bad products", st)
	}
	problems, err := db.Store.ProductProblems(ctx, c.ID)
	if err != nil || len(problems) != 2 || problems[0].Key != "product:2" || !strings.Contains(problems[0].Reason, "SQLSTATE 23514") ||
		problems[1].Key != "product:4" {
		t.Fatalf("problems = %+v, %v", problems, err)
	}
}
