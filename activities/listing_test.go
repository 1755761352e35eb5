package activities_test

import (
	"context"
	"crypto/rand"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/ekmsync/ekmsync/activities"
	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/ekm"
	"github.com/ekmsync/ekmsync/internal/ekmsim"
	"github.com/ekmsync/ekmsync/internal/secret"
	"github.com/ekmsync/ekmsync/internal/shop"
	"github.com/ekmsync/ekmsync/internal/store"
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
	ctx := context.Background()
	db := storetest.New(t)
	sim := ekmsim.New(ekmsim.Options{Seed: 9, Products: products, VariantShare: 0.3, SKUProblems: 4, BucketSize: 1000, LeakPerSecond: 1000})
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(func() { srv.Close(); sim.Close() })
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	key, err := secret.NewKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	s := channel.Defaults()
	s.Name, s.APIBaseURL, s.ClientID, s.RedirectURL, s.Currency, s.Enabled = "shop", srv.URL, "ekmsim-demo-client", "http://127.0.0.1:1/callback", "GBP", true
	ch, err := db.Store.CreateChannel(ctx, s, func(id int64) []byte { return store.SealClientSecret(key, id, "ekmsim-demo-secret") }, "test")
	if err != nil {
		t.Fatal(err)
	}
	access, refresh := sim.IssueTokens()
	if err := db.Store.SaveTokens(ctx, key, ch.ID, ekm.Tokens{AccessToken: access, RefreshToken: refresh, Expiry: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	acts := &activities.Activities{Store: db.Store, Key: key, Shop: &shop.Connector{Store: db.Store, Key: key, HTTP: srv.Client()}, Now: time.Now}
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
