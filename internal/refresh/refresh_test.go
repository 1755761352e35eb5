package refresh_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/ekm"
	"github.com/ekmsync/ekmsync/internal/ekmsim"
	"github.com/ekmsync/ekmsync/internal/refresh"
	"github.com/ekmsync/ekmsync/internal/shop"
	"github.com/ekmsync/ekmsync/internal/store"
	"github.com/ekmsync/ekmsync/internal/store/hubtest"
	"github.com/ekmsync/ekmsync/internal/store/storetest"
)

// env is a channel of a simulated shop whose listings one full download stored.
type env struct {
	db   *storetest.DB
	sim  *ekmsim.Sim
	conn *shop.Connector
	c    channel.Settings
}

func newEnv(t *testing.T) *env {
	t.Helper()
	db := storetest.New(t)
	sim, conn, c := hubtest.SimChannel(t, db, ekmsim.Options{Seed: 3, Products: 30, VariantShare: 0.3})
	e := &env{db: db, sim: sim, conn: conn, c: c}
	e.download(t)
	return e
}

// download stores every product of the shop as one finished download would.
func (e *env) download(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	st, err := e.db.Store.BeginListingDownload(ctx, e.c.ID, fmt.Sprint("run-", time.Now().UnixNano()))
	if err != nil {
		t.Fatal(err)
	}
	var raw []json.RawMessage
	for _, p := range e.sim.Products() {
		b, _ := json.Marshal(p)
		raw = append(raw, b)
	}
	ls, bad := store.ListingsOf(raw)
	if _, err := e.db.Store.WriteListingPages(ctx, e.c.ID, st.Generation, store.ListingPage{Number: 1, PagesTotal: 1,
		Last: true, Listings: ls, BadProducts: len(bad), FetchedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.Store.FinishListingDownload(ctx, e.c.ID, st.Generation); err != nil {
		t.Fatal(err)
	}
}

func (e *env) refresh(t *testing.T) refresh.Result {
	t.Helper()
	c, err := e.conn.Client(context.Background(), e.c)
	if err != nil {
		t.Fatal(err)
	}
	r, err := refresh.Run(context.Background(), e.db.Store, c, e.c)
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	return r
}

// listings are the channel's listings by "product/variant".
func (e *env) listings(t *testing.T) map[string]store.StoredListing {
	t.Helper()
	ls, err := e.db.Store.Listings(context.Background(), e.c.ID)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]store.StoredListing{}
	for _, l := range ls {
		out[fmt.Sprintf("%d/%d", l.ProductID, l.VariantID)] = l
	}
	return out
}

// A refresh reads only the products modified since the download (less the
// margin), upserts their listings through the download's path (a new product
// listed, a changed price and a variant's stock updated, a price the hub cannot
// hold a listing problem), moves its cursor with the commit, and removes nothing:
// a product deleted on EKM keeps its listing.
func TestRefreshUpsertsModifiedProductsAndRemovesNothing(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if r := e.refresh(t); r.From == nil || r.Products != 0 || r.Skipped != "" {
		t.Fatalf("first refresh right after the download: %+v, want nothing modified", r)
	}

	products := e.sim.Products()
	var plain, withV, gone ekm.Product
	for _, p := range products {
		switch {
		case len(p.Variants) > 0 && withV.ID == 0:
			withV = p
		case len(p.Variants) == 0 && plain.ID == 0:
			plain = p
		case len(p.Variants) == 0 && gone.ID == 0:
			gone = p
		}
	}
	if _, err := e.sim.UpdateProduct(plain.ID, ekmsim.ProductPatch{Price: hubtest.Ptr(77.5)}); err != nil {
		t.Fatal(err)
	}
	v := withV.Variants[0]
	if _, err := e.sim.UpdateProduct(v.ID, ekmsim.ProductPatch{Stock: hubtest.Ptr[int64](123)}); err != nil {
		t.Fatal(err)
	}
	if err := e.sim.DeleteProduct(gone.ID); err != nil {
		t.Fatal(err)
	}
	added := e.sim.CreateProduct(ekmsim.ProductSpec{ProductCode: hubtest.Ptr("REFRESH-NEW"), Price: hubtest.Ptr(5.0)})
	hostile := e.sim.CreateProduct(ekmsim.ProductSpec{ProductCode: hubtest.Ptr("REFRESH-HUGE"), Price: hubtest.Ptr(1e12)})

	r := e.refresh(t)
	if r.Products != 4 || r.Listings != 2+len(withV.Variants) || r.Problems != 1 || r.Pages != 1 || r.Cursor == nil {
		t.Fatalf("refresh = %+v, want the 4 modified products on one page, one of them a problem, and a cursor", r)
	}
	got := e.listings(t)
	if l := got[fmt.Sprintf("%d/0", plain.ID)]; l.Price != 77.5 {
		t.Errorf("changed price: listing %+v, want 77.5", l)
	}
	if l := got[fmt.Sprintf("%d/%d", withV.ID, v.ID)]; l.Stock != 123 {
		t.Errorf("variant stock: listing %+v, want 123", l)
	}
	if l, ok := got[fmt.Sprintf("%d/0", added.ID)]; !ok || l.SKU != "REFRESH-NEW" || l.RemovedAt != nil {
		t.Errorf("new product: listing %+v (%t), want it listed", l, ok)
	}
	if l, ok := got[fmt.Sprintf("%d/0", gone.ID)]; !ok || l.RemovedAt != nil {
		t.Errorf("product deleted on EKM: listing %+v (%t), want it kept and not removed (only the full download removes)", l, ok)
	}
	if _, ok := got[fmt.Sprintf("%d/0", hostile.ID)]; ok {
		t.Errorf("a price the hub cannot hold was stored")
	}
	problems, err := e.db.Store.ProductProblems(ctx, e.c.ID)
	if err != nil || len(problems) != 1 || problems[0].ProductID == nil || *problems[0].ProductID != hostile.ID {
		t.Fatalf("product problems %+v (%v), want product %d's", problems, err, hostile.ID)
	}
	state, err := e.db.Store.ListingRefreshOf(ctx, e.c.ID)
	if err != nil || state.ModifiedSince == nil || !state.ModifiedSince.Equal(r.Cursor.Truncate(time.Microsecond)) ||
		state.LastProducts != 4 || state.LastListings != 2+len(withV.Variants) || state.LastError != "" {
		t.Fatalf("hub's refresh state %+v (%v), want the cursor %s and the counts", state, err, r.Cursor)
	}

	// More than a page: the key pages on; what the margin reads again is
	// upserted again, unchanged.
	for i := range 25 {
		e.sim.CreateProduct(ekmsim.ProductSpec{ProductCode: hubtest.Ptr(fmt.Sprintf("REFRESH-%02d", i))})
	}
	r = e.refresh(t)
	if r.Products < 25 || r.Pages < 2 || r.More {
		t.Fatalf("refresh of 25 new products: %+v, want them all over two pages or more", r)
	}
	if n := len(e.listings(t)); n != len(got)+25 {
		t.Errorf("%d listings, want %d", n, len(got)+25)
	}
}

// While a full download is in progress the refresh reads nothing (the download
// reads every product), and it is not due; once the download finishes, its start
// is where the refresh reads from.
func TestRefreshWaitsForARunningDownload(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.db.Store.BeginListingDownload(ctx, e.c.ID, "running"); err != nil {
		t.Fatal(err)
	}
	p := e.sim.CreateProduct(ekmsim.ProductSpec{ProductCode: hubtest.Ptr("DURING")})
	if r := e.refresh(t); r.Skipped == "" || r.Products != 0 {
		t.Fatalf("refresh during a download: %+v, want it skipped", r)
	}
	if _, ok := e.listings(t)[fmt.Sprintf("%d/0", p.ID)]; ok {
		t.Fatal("the refresh wrote during a download")
	}
	sched := &refresh.Scheduler{Store: e.db.Store, Connector: e.conn}
	if _, err := e.db.Pool.Exec(ctx, `UPDATE listing_refreshes SET download_started_at = now() - interval '2 hours',
		last_run_at = NULL`); err != nil {
		t.Fatal(err)
	}
	if n, err := sched.Pass(ctx); err != nil || n != 0 {
		t.Fatalf("a pass during a download ran %d refreshes (%v), want 0", n, err)
	}
}

// The scheduled refresh runs once listing-refresh-interval has passed since the
// download's start, exactly once until the next interval, and never with the
// setting at 0.
func TestSchedulerRunsADueRefreshOnce(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	sched := &refresh.Scheduler{Store: e.db.Store, Connector: e.conn}
	if n, err := sched.Pass(ctx); err != nil || n != 0 {
		t.Fatalf("a pass right after the download ran %d refreshes (%v), want 0: due an interval later", n, err)
	}
	if _, err := e.db.Pool.Exec(ctx, `UPDATE listing_refreshes SET download_started_at = now() - interval '61 minutes'`); err != nil {
		t.Fatal(err)
	}
	p := e.sim.CreateProduct(ekmsim.ProductSpec{ProductCode: hubtest.Ptr("SCHEDULED")})
	if n, err := sched.Pass(ctx); err != nil || n != 1 {
		t.Fatalf("pass ran %d refreshes (%v), want 1", n, err)
	}
	if _, ok := e.listings(t)[fmt.Sprintf("%d/0", p.ID)]; !ok {
		t.Fatal("the scheduled refresh did not list the new product")
	}
	if n, err := sched.Pass(ctx); err != nil || n != 0 {
		t.Fatalf("a second pass ran %d refreshes (%v), want 0 until the interval has passed", n, err)
	}
	if _, err := e.db.Pool.Exec(ctx, `UPDATE listing_refreshes SET last_run_at = now() - interval '2 hours';
		UPDATE channels SET listing_refresh_interval_seconds = 0`); err != nil {
		t.Fatal(err)
	}
	if n, err := sched.Pass(ctx); err != nil || n != 0 {
		t.Fatalf("a pass with listing-refresh-interval 0 ran %d refreshes (%v)", n, err)
	}
}
