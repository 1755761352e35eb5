package activities_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/ekmsync/ekmsync/activities"
	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/ekmsim"
	"github.com/ekmsync/ekmsync/internal/store"
	"github.com/ekmsync/ekmsync/internal/store/hubtest"
	"github.com/ekmsync/ekmsync/internal/store/storetest"
)

// listingShop is an enabled, authorised channel on a simulated shop, with the
// activities to drive against it.
type listingShop struct {
	sim  *ekmsim.Sim
	db   *storetest.DB
	acts *activities.Activities
	ch   channel.Settings
	env  *testsuite.TestActivityEnvironment
}

func newListingShop(t *testing.T, products int) *listingShop {
	t.Helper()
	db := storetest.New(t)
	sim, conn, ch := hubtest.SimChannel(t, db, ekmsim.Options{Seed: 9, Products: products, VariantShare: 0.3, SKUProblems: 4,
		BucketSize: 1000, LeakPerSecond: 1000})
	acts := &activities.Activities{Store: db.Store, Shop: conn, Now: time.Now}
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(acts)
	return &listingShop{sim: sim, db: db, acts: acts, ch: ch, env: env}
}

// run executes one activity and decodes its result.
func run[T any](t *testing.T, ls *listingShop, fn, in any) (T, error) {
	t.Helper()
	var out T
	v, err := ls.env.ExecuteActivity(fn, in)
	if err == nil {
		err = v.Get(&out)
	}
	return out, err
}

func TestDownloadListingPagesResumesAfterTheLastCommittedPageAcrossCalls(t *testing.T) {
	ls := newListingShop(t, 200)
	begun, err := run[activities.BeginListingResult](t, ls, ls.acts.BeginListingDownload, activities.BeginListingInput{Channel: "shop", RunID: "r1"})
	if err != nil || !begun.Began {
		t.Fatalf("begin: %+v, %v", begun, err)
	}
	calls, perPage := 0, time.Duration(0)
	var res activities.ListingPagesResult
	for !res.State.AllPagesDone() {
		calls++
		// A slice of a nanosecond commits what it fetched first, a page or a few.
		res, err = run[activities.ListingPagesResult](t, ls, ls.acts.DownloadListingPages,
			activities.ListingPagesInput{Channel: "shop", Generation: begun.State.Generation, Slice: time.Nanosecond, PerPage: perPage})
		if err != nil {
			t.Fatal(err)
		}
		if res.Pages == 0 || res.PerPage <= 0 || (!res.State.AllPagesDone() && res.State.EstimatedCompletion == nil) {
			t.Fatalf("call %d: %+v", calls, res)
		}
		perPage = res.PerPage
	}
	if calls < 2 || res.State.PagesDone != 10 {
		t.Fatalf("%d calls, %d pages: the test needs the download split over calls", calls, res.State.PagesDone)
	}
	if fetched := ls.sim.RequestCounts()["GET /api/v1/products"]; fetched != 10 {
		t.Fatalf("%d page requests for 10 pages over %d calls: a call fetched again what an earlier one committed", fetched, calls)
	}
	done, err := run[store.ListingDownloadState](t, ls, ls.acts.FinishListingDownload,
		activities.ListingGenerationInput{Channel: "shop", Generation: begun.State.Generation})
	if err != nil || done.InProgress || done.CompletionTime == nil {
		t.Fatalf("finish: %+v, %v", done, err)
	}
	want := 0
	for _, p := range ls.sim.Products() {
		want += max(1, len(p.Variants))
	}
	if done.ListingsSeen != want {
		t.Fatalf("%d listings, the shop has %d", done.ListingsSeen, want)
	}
}

func TestDownloadListingPagesStopsAtOnceForADisabledChannel(t *testing.T) {
	ls := newListingShop(t, 40)
	begun, _ := run[activities.BeginListingResult](t, ls, ls.acts.BeginListingDownload, activities.BeginListingInput{Channel: "shop", RunID: "r1"})
	if _, _, err := ls.db.Store.UpdateChannel(context.Background(), "shop", "test", func(s channel.Settings) (channel.Settings, []channel.AppliedChange, error) {
		return channel.Apply(s, []channel.Change{{Key: "enabled", Value: "off"}})
	}); err != nil {
		t.Fatal(err)
	}
	_, err := run[activities.ListingPagesResult](t, ls, ls.acts.DownloadListingPages,
		activities.ListingPagesInput{Channel: "shop", Generation: begun.State.Generation})
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || app.Type() != activities.ErrTypeDisabled || !app.NonRetryable() ||
		!strings.Contains(app.Error(), "starter channel enable shop") {
		t.Fatalf("error = %v, want a non-retryable %s naming the fix", err, activities.ErrTypeDisabled)
	}
	if n := ls.sim.RequestCounts()["GET /api/v1/products"]; n != 0 {
		t.Fatalf("%d page requests for a disabled channel", n)
	}
	// A new download of the still disabled channel does not begin, and says why.
	again, err := run[activities.BeginListingResult](t, ls, ls.acts.BeginListingDownload, activities.BeginListingInput{Channel: "shop", RunID: "r2"})
	if err != nil || again.Began || again.State.InProgress || !strings.HasPrefix(again.State.LastOutcome, "not started: channel is disabled") {
		t.Fatalf("begin while disabled: %+v, %v", again, err)
	}
}

func TestDownloadListingPagesRefusesAGenerationThatIsNoLongerCurrent(t *testing.T) {
	ls := newListingShop(t, 40)
	first, _ := run[activities.BeginListingResult](t, ls, ls.acts.BeginListingDownload, activities.BeginListingInput{Channel: "shop", RunID: "r1"})
	if _, err := run[activities.BeginListingResult](t, ls, ls.acts.BeginListingDownload, activities.BeginListingInput{Channel: "shop", RunID: "r2"}); err != nil {
		t.Fatal(err)
	}
	_, err := run[activities.ListingPagesResult](t, ls, ls.acts.DownloadListingPages,
		activities.ListingPagesInput{Channel: "shop", Generation: first.State.Generation})
	if !activities.IsType(err, activities.ErrTypeSuperseded) {
		t.Fatalf("error = %v, want %s", err, activities.ErrTypeSuperseded)
	}
}

// A product deleted on a page already read moves the next page's first product
// onto that page: the pages never show it, and the check before the finish must
// find it, so that only the deleted product's listings are removed.
func TestVerifyUnseenListingsFindsTheProductsAShiftedPageSkipped(t *testing.T) {
	ls := newListingShop(t, 60) // 3 pages
	ctx := context.Background()
	gen := func(runID string) int64 {
		begun, err := run[activities.BeginListingResult](t, ls, ls.acts.BeginListingDownload, activities.BeginListingInput{Channel: "shop", RunID: runID})
		if err != nil {
			t.Fatal(err)
		}
		return begun.State.Generation
	}
	pages := func(g int64, onFirst func()) {
		t.Helper()
		var res activities.ListingPagesResult
		for !res.State.AllPagesDone() {
			var err error
			res, err = run[activities.ListingPagesResult](t, ls, ls.acts.DownloadListingPages,
				activities.ListingPagesInput{Channel: "shop", Generation: g, Slice: time.Nanosecond})
			if err != nil {
				t.Fatal(err)
			}
			if onFirst != nil {
				onFirst()
				onFirst = nil
			}
		}
	}
	finish := func(g int64) (activities.VerifyUnseenResult, store.ListingDownloadState) {
		t.Helper()
		v, err := run[activities.VerifyUnseenResult](t, ls, ls.acts.VerifyUnseenListings, activities.ListingGenerationInput{Channel: "shop", Generation: g})
		if err != nil {
			t.Fatal(err)
		}
		st, err := run[store.ListingDownloadState](t, ls, ls.acts.FinishListingDownload, activities.ListingGenerationInput{Channel: "shop", Generation: g})
		if err != nil {
			t.Fatal(err)
		}
		return v, st
	}
	first := gen("r1")
	pages(first, nil)
	finish(first)

	products := ls.sim.Products()
	deleted, skipped := products[3], products[20] // on page 1; first of page 2, until the deletion
	second := gen("r2")
	pages(second, func() {
		if err := ls.sim.DeleteProduct(deleted.ID); err != nil {
			t.Fatal(err)
		}
	})
	// The deleted product was seen before its deletion; the skipped one only by the check.
	v, st := finish(second)
	if v.Unseen != 1 || v.Found != 1 || st.ListingsRemoved != 0 {
		t.Fatalf("check of the unseen products: %+v, removed %d; want product %d unseen, found, and nothing removed",
			v, st.ListingsRemoved, skipped.ID)
	}
	// The next download no longer sees the deleted product: the check does not find it, and its listings go.
	third := gen("r3")
	pages(third, nil)
	v, st = finish(third)
	if v.Unseen != 1 || v.Found != 0 || st.ListingsRemoved != max(1, len(deleted.Variants)) {
		t.Fatalf("third download: %+v, removed %d; want product %d unseen, not found, and its listings removed", v, st.ListingsRemoved, deleted.ID)
	}
	all, err := ls.db.Store.Listings(ctx, ls.ch.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range all {
		if (l.RemovedAt != nil) != (l.ProductID == deleted.ID) {
			t.Fatalf("listing %d/%d removed %v; only product %d was deleted", l.ProductID, l.VariantID, l.RemovedAt, deleted.ID)
		}
	}
	if n := ls.sim.RequestCounts()["GET /api/v1/products/search"]; n != 2 {
		t.Fatalf("%d searches to check one product in each of two downloads", n)
	}
}
