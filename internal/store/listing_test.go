package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ekmsync/ekmsync/internal/store"
	"github.com/ekmsync/ekmsync/internal/store/storetest"
)

func listing(product, variant int64, sku string) store.Listing {
	return store.Listing{ProductID: product, VariantID: variant, SKU: sku, Name: "Mug", Live: true, Price: 12.99, Stock: 7}
}

// download runs one whole generation over pages of listings and finishes it.
func download(t *testing.T, st *store.Store, channelID int64, runID string, pages ...[]store.Listing) store.ListingDownloadState {
	t.Helper()
	ctx := context.Background()
	begun, err := st.BeginListingDownload(ctx, channelID, runID)
	if err != nil {
		t.Fatal(err)
	}
	for i, ls := range pages {
		_, err := st.WriteListingPages(ctx, channelID, begun.Generation, store.ListingPage{Number: i + 1, PagesTotal: len(pages),
			ProductsTotal: 20 * len(pages), Last: i == len(pages)-1, Listings: ls, FetchedAt: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
	}
	done, err := st.FinishListingDownload(ctx, channelID, begun.Generation)
	if err != nil {
		t.Fatal(err)
	}
	return done
}

func TestListingPagesCommitOnceInOrderAndCountProblemsAsTheyGo(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	c := newChannel(t, db.Store, "shop")
	begun, err := db.Store.BeginListingDownload(ctx, c.ID, "run-1")
	if err != nil || !begun.InProgress || begun.Generation != 1 || begun.PagesTotal != nil || begun.StartTime == nil {
		t.Fatalf("begin = %+v, %v", begun, err)
	}
	eta := time.Now().Add(time.Minute).UTC().Truncate(time.Second)
	page1 := store.ListingPage{Number: 1, PagesTotal: 2, ProductsTotal: 30, FetchedAt: time.Now(), EstimatedCompletion: &eta,
		Listings: []store.Listing{listing(1, 0, "A"), listing(2, 3, "B"), listing(2, 4, "B"), listing(5, 0, "")}}
	st, err := db.Store.WriteListingPages(ctx, c.ID, 1, page1)
	if err != nil {
		t.Fatal(err)
	}
	if st.PagesDone != 1 || *st.PagesTotal != 2 || *st.ProductsTotal != 30 || st.ListingsSeen != 4 || st.EmptySKUs != 1 ||
		st.DuplicateSKUs != 2 || !st.EstimatedCompletion.Equal(eta) {
		t.Fatalf("after page 1: %+v", st)
	}
	// A retried activity offers page 1 again: nothing counts twice.
	if again, err := db.Store.WriteListingPages(ctx, c.ID, 1, page1); err != nil || again.ListingsSeen != 4 || again.DuplicateSKUs != 2 {
		t.Fatalf("page 1 again: %+v, %v", again, err)
	}
	if _, err := db.Store.WriteListingPages(ctx, c.ID, 1, store.ListingPage{Number: 3, FetchedAt: time.Now()}); err == nil {
		t.Fatal("page 3 after page 1 was accepted")
	}
	// Page 2 shares A with page 1, and repeats product 5 (a page shift): it is not seen twice.
	st, err = db.Store.WriteListingPages(ctx, c.ID, 1, store.ListingPage{Number: 2, PagesTotal: 2, ProductsTotal: 30, Last: true,
		FetchedAt: time.Now(), Listings: []store.Listing{listing(6, 0, "A"), listing(5, 0, ""), listing(7, 0, "C")}})
	if err != nil {
		t.Fatal(err)
	}
	if !st.AllPagesDone() || st.ListingsSeen != 6 || st.EmptySKUs != 1 || st.DuplicateSKUs != 4 {
		t.Fatalf("after page 2: %+v", st)
	}
	if _, err := db.Store.WriteListingPages(ctx, c.ID, 2, page1); !errors.Is(err, store.ErrListingGeneration) {
		t.Fatalf("write to another generation: %v", err)
	}
	done, err := db.Store.FinishListingDownload(ctx, c.ID, 1)
	if err != nil {
		t.Fatal(err)
	}
	if done.InProgress || done.CompletionTime == nil || done.EstimatedCompletion != nil || done.ListingsSeen != 6 ||
		done.EmptySKUs != 1 || done.DuplicateSKUs != 4 {
		t.Fatalf("finished: %+v", done)
	}
	problems, err := db.Store.ListingProblems(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.ListingProblem{
		{ProductID: 5, SKU: "", Problem: "empty"},
		{ProductID: 1, SKU: "A", Problem: "duplicate"}, {ProductID: 6, SKU: "A", Problem: "duplicate"},
		{ProductID: 2, VariantID: 3, SKU: "B", Problem: "duplicate"}, {ProductID: 2, VariantID: 4, SKU: "B", Problem: "duplicate"},
	}
	if len(problems) != len(want) {
		t.Fatalf("problems = %+v", problems)
	}
	for i, p := range problems {
		if p.ProductID != want[i].ProductID || p.VariantID != want[i].VariantID || p.SKU != want[i].SKU || p.Problem != want[i].Problem {
			t.Fatalf("problem %d = %+v, want %+v", i, p, want[i])
		}
	}
	// A retried finish does nothing more.
	if again, err := db.Store.FinishListingDownload(ctx, c.ID, 1); err != nil || !again.CompletionTime.Equal(*done.CompletionTime) {
		t.Fatalf("finish again: %+v, %v", again, err)
	}
}

func TestCompleteDownloadMarksUnseenRemovedAndRestoresThoseSeenAgain(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	c := newChannel(t, db.Store, "shop")
	download(t, db.Store, c.ID, "r1", []store.Listing{listing(1, 0, "A"), listing(2, 0, "B"), listing(3, 0, "C")})
	second := download(t, db.Store, c.ID, "r2", []store.Listing{listing(1, 0, "A")}, []store.Listing{listing(3, 0, "B")})
	if second.ListingsRemoved != 1 || second.Generation != 2 || second.DuplicateSKUs != 0 {
		t.Fatalf("second download: %+v", second)
	}
	all, err := db.Store.Listings(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 3 || all[1].ProductID != 2 || all[1].RemovedAt == nil || all[0].RemovedAt != nil || all[2].SKU != "B" {
		t.Fatalf("listings after the second download: %+v", all)
	}
	third := download(t, db.Store, c.ID, "r3", []store.Listing{listing(1, 0, "A"), listing(2, 0, "B"), listing(3, 0, "B")})
	if third.ListingsRemoved != 0 || third.ListingsRestored != 1 || third.DuplicateSKUs != 2 {
		t.Fatalf("third download: %+v", third)
	}
	counts, err := db.Store.CountListings(ctx, c.ID)
	if err != nil || counts != (store.ListingCounts{Live: 3, DuplicateSKUs: 2}) {
		t.Fatalf("counts = %+v, %v", counts, err)
	}
	if _, err := db.Pool.Exec(ctx, `INSERT INTO stock_items (sku) VALUES ('A'), ('B')`); err != nil {
		t.Fatal(err)
	}
	if counts, _ := db.Store.CountListings(ctx, c.ID); counts.Linked != 1 {
		t.Fatalf("linked = %d, want 1 (A; B is a duplicate)", counts.Linked)
	}
}

func TestIncompleteDownloadRemovesNothing(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	c := newChannel(t, db.Store, "shop")
	first := download(t, db.Store, c.ID, "r1", []store.Listing{listing(1, 0, "A"), listing(2, 0, "B")})

	// Ended half-way (the channel was disabled): no longer in progress, nothing removed.
	begun, _ := db.Store.BeginListingDownload(ctx, c.ID, "r2")
	if _, err := db.Store.WriteListingPages(ctx, c.ID, begun.Generation, store.ListingPage{Number: 1, PagesTotal: 2,
		FetchedAt: time.Now(), Listings: []store.Listing{listing(1, 0, "A")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Store.FinishListingDownload(ctx, c.ID, begun.Generation); err == nil {
		t.Fatal("a download with a page left was finished")
	}
	ended, err := db.Store.EndListingDownload(ctx, c.ID, begun.Generation, "stopped: channel is disabled")
	if err != nil || ended.InProgress || ended.LastOutcome != "stopped: channel is disabled" || !ended.CompletionTime.Equal(*first.CompletionTime) {
		t.Fatalf("ended = %+v, %v", ended, err)
	}

	// All pages read, but a product could not be: it may be one not seen.
	begun, _ = db.Store.BeginListingDownload(ctx, c.ID, "r3")
	if _, err := db.Store.WriteListingPages(ctx, c.ID, begun.Generation, store.ListingPage{Number: 1, PagesTotal: 1, Last: true,
		BadProducts: 1, FetchedAt: time.Now(), Listings: []store.Listing{listing(1, 0, "A")}}); err != nil {
		t.Fatal(err)
	}
	finished, err := db.Store.FinishListingDownload(ctx, c.ID, begun.Generation)
	if err != nil || finished.InProgress || finished.ListingsRemoved != 0 || !finished.CompletionTime.Equal(*first.CompletionTime) {
		t.Fatalf("finished with a bad product = %+v, %v", finished, err)
	}
	counts, _ := db.Store.CountListings(ctx, c.ID)
	if counts.Removed != 0 || counts.Live != 2 {
		t.Fatalf("counts = %+v", counts)
	}
}

func TestBeginIsIdempotentPerRun(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	c := newChannel(t, db.Store, "shop")
	a, _ := db.Store.BeginListingDownload(ctx, c.ID, "run-1")
	b, err := db.Store.BeginListingDownload(ctx, c.ID, "run-1")
	if err != nil || b.Generation != a.Generation {
		t.Fatalf("retried begin: generation %d then %d, %v", a.Generation, b.Generation, err)
	}
	other, err := db.Store.BeginListingDownload(ctx, c.ID, "run-2")
	if err != nil || other.Generation != a.Generation+1 || other.PagesDone != 0 {
		t.Fatalf("begin of another run: %+v, %v", other, err)
	}
}

// The slices' shared pace counts every channel's download in progress, and only those.
func TestListingDownloadsInProgressCountsEveryChannelsRunningDownload(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	count := func() int64 {
		t.Helper()
		n, err := db.Store.ListingDownloadsInProgress(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	a, b := newChannel(t, db.Store, "a"), newChannel(t, db.Store, "b")
	newChannel(t, db.Store, "idle")
	if n := count(); n != 0 {
		t.Fatalf("%d in progress before any began", n)
	}
	ga, _ := db.Store.BeginListingDownload(ctx, a.ID, "run-a")
	if _, err := db.Store.BeginListingDownload(ctx, b.ID, "run-b"); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 2 {
		t.Fatalf("%d in progress, want the two begun", n)
	}
	if _, err := db.Store.EndListingDownload(ctx, a.ID, ga.Generation, "stopped"); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 1 {
		t.Fatalf("%d in progress after one ended, want 1", n)
	}
}

func TestOutboundLedgerConfirmsWhatEKMShowedUnlessAPushIsNewer(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	c := newChannel(t, db.Store, "shop")
	confirmed := func() (qty int64, price float64) {
		t.Helper()
		if err := db.Pool.QueryRow(ctx, `SELECT confirmed_qty, confirmed_price::float8 FROM listing_outbound
			WHERE channel_id = $1 AND product_id = 1 AND variant_id = 0`, c.ID).Scan(&qty, &price); err != nil {
			t.Fatal(err)
		}
		return qty, price
	}
	download(t, db.Store, c.ID, "r1", []store.Listing{listing(1, 0, "A")})
	if qty, price := confirmed(); qty != 7 || price != 12.99 {
		t.Fatalf("seeded %d at %.2f, want 7 at 12.99", qty, price)
	}
	// A push confirms 5 at a time after the next page is requested: that page's 9 is older.
	requested := time.Now().Add(-time.Minute)
	if _, err := db.Pool.Exec(ctx, `UPDATE listing_outbound SET confirmed_qty = 5, stock_sent_at = $2, stock_attempted_at = $2
		WHERE channel_id = $1`, c.ID, requested.Add(30*time.Second)); err != nil {
		t.Fatal(err)
	}
	moved := listing(1, 0, "A")
	moved.Stock, moved.Price = 9, 14.5
	begun, _ := db.Store.BeginListingDownload(ctx, c.ID, "r2")
	if _, err := db.Store.WriteListingPages(ctx, c.ID, begun.Generation, store.ListingPage{Number: 1, PagesTotal: 1, Last: true,
		FetchedAt: requested, Listings: []store.Listing{moved}}); err != nil {
		t.Fatal(err)
	}
	if qty, price := confirmed(); qty != 5 || price != 14.5 {
		t.Fatalf("after an older observation: %d at %.2f, want the push's 5 and EKM's price 14.50", qty, price)
	}
	// A download requested after the push sees what EKM shows now (say, after a sale there).
	download(t, db.Store, c.ID, "r3", []store.Listing{moved})
	if qty, _ := confirmed(); qty != 9 {
		t.Fatalf("after a newer observation: %d, want 9", qty)
	}
	// A push that failed after the next page was requested leaves the quantity
	// unknown (EKM may have applied it): the older page does not confirm 9 again.
	requested = time.Now()
	failed := store.ListingSend{ChannelID: c.ID, ListingKey: store.ListingKey{ProductID: 1}, Sent: 3, Error: "answer cut", At: requested.Add(time.Second)}
	if err := db.Store.RecordStockSend(ctx, failed, store.AuditEntry{Actor: "test", Action: "ekm.stock"}); err != nil {
		t.Fatal(err)
	}
	begun, _ = db.Store.BeginListingDownload(ctx, c.ID, "r4")
	if _, err := db.Store.WriteListingPages(ctx, c.ID, begun.Generation, store.ListingPage{Number: 1, PagesTotal: 1, Last: true,
		FetchedAt: requested, Listings: []store.Listing{moved}}); err != nil {
		t.Fatal(err)
	}
	var qty *int64
	if err := db.Pool.QueryRow(ctx, `SELECT confirmed_qty FROM listing_outbound WHERE channel_id = $1`, c.ID).Scan(&qty); err != nil {
		t.Fatal(err)
	}
	if qty != nil {
		t.Fatalf("after a failed push and an older observation: confirmed %d, want unknown", *qty)
	}
}
