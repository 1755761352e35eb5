package drift_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/drift"
	"github.com/ekmsync/ekmsync/internal/ekmsim"
	"github.com/ekmsync/ekmsync/internal/shop"
	"github.com/ekmsync/ekmsync/internal/store/hubtest"
	"github.com/ekmsync/ekmsync/internal/store/storetest"
)

// setup is an enabled channel of a simulated shop, authorised, with its connector.
func setup(t *testing.T) (*storetest.DB, *ekmsim.Sim, *shop.Connector, channel.Settings) {
	t.Helper()
	db := storetest.New(t)
	sim, conn, c := hubtest.SimChannel(t, db, ekmsim.Options{Seed: 1})
	return db, sim, conn, c
}

// The scheduled comparison runs for a channel once its drift-interval has passed
// since the last one, records the drifted rows (what the metrics read), writes
// nothing to EKM, and is not due again until the next interval.
func TestSchedulerRunsADueComparisonOnceAndRecordsIt(t *testing.T) {
	db, sim, conn, c := setup(t)
	ctx := context.Background()
	sku, stock, price := "S-1", int64(4), 10.0
	p := sim.CreateProduct(ekmsim.ProductSpec{ProductCode: &sku, Stock: &stock, Price: &price})
	hubtest.StockItem(t, db.Pool, sku, map[string]int{"default": 4})
	hubtest.InsertListing(t, db.Pool, hubtest.Listing{ChannelID: c.ID, ProductID: p.ID, SKU: sku, EKMStock: &stock, EKMPrice: &price})
	if _, err := sim.UpdateProduct(p.ID, ekmsim.ProductPatch{Stock: hubtest.Ptr[int64](1)}); err != nil {
		t.Fatal(err)
	}
	sched := &drift.Scheduler{Store: db.Store, Connector: conn}
	if n, err := sched.Pass(ctx); err != nil || n != 0 {
		t.Fatalf("pass on a channel created just now ran %d comparisons (%v), want 0: the first is due drift-interval later", n, err)
	}
	if _, err := db.Pool.Exec(ctx, `UPDATE channels SET created_at = now() - interval '25 hours' WHERE id = $1`, c.ID); err != nil {
		t.Fatal(err)
	}
	if n, err := sched.Pass(ctx); err != nil || n != 1 {
		t.Fatalf("pass ran %d comparisons (%v), want 1", n, err)
	}
	runs, err := db.Store.DriftRuns(ctx)
	if err != nil || len(runs) != 1 || runs[0].LastError != "" {
		t.Fatalf("drift runs = %+v, %v", runs, err)
	}
	var counts drift.Counts
	if err := json.Unmarshal(runs[0].Counts, &counts); err != nil || counts.Stock != 1 || counts.Drifted() != 1 {
		t.Fatalf("recorded counts = %s (%v), want one stock row", runs[0].Counts, err)
	}
	if w := sim.Writes(ekmsim.WriteFilter{}); len(w) != 0 {
		t.Fatalf("the comparison wrote to EKM: %+v", w)
	}
	// What the notifications read: the drifted rows, pending ones left out.
	if h, err := db.Store.ChannelHealth(ctx); err != nil || h[c.ID].DriftedRows != 1 {
		t.Fatalf("channel health %+v (%v), want 1 drifted row", h[c.ID], err)
	}
	if n, err := sched.Pass(ctx); err != nil || n != 0 {
		t.Fatalf("a second pass ran %d comparisons (%v), want 0 until drift-interval has passed", n, err)
	}
}

// A linked listing whose product EKM no longer has (asked for by id, 404) is
// drifted as not on EKM, and a heal leaves it to the next full listing download.
func TestCompareReportsAListingGoneFromEKM(t *testing.T) {
	db, sim, conn, c := setup(t)
	ctx := context.Background()
	sku, stock, price := "GONE", int64(2), 5.0
	p := sim.CreateProduct(ekmsim.ProductSpec{ProductCode: &sku, Stock: &stock, Price: &price})
	hubtest.StockItem(t, db.Pool, sku, map[string]int{"default": 2})
	hubtest.InsertListing(t, db.Pool, hubtest.Listing{ChannelID: c.ID, ProductID: p.ID, SKU: sku, EKMStock: &stock, EKMPrice: &price})
	if err := sim.DeleteProduct(p.ID); err != nil {
		t.Fatal(err)
	}
	client, err := conn.Client(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	r, err := drift.Compare(ctx, db.Store, client, c, drift.Options{Since: time.Now().Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if r.Counts.NotOnEKM != 1 || r.Counts.Drifted() != 1 || len(r.Listings) != 1 || r.Listings[0].Kind != drift.KindNotOnEKM {
		t.Fatalf("report = %+v, want the one listing not on EKM", r)
	}
	h, err := drift.Heal(ctx, db.Store, c, &r, "test", func(context.Context, []int64) (string, error) {
		t.Fatal("a heal without missed orders started a back-fill")
		return "", nil
	})
	if err != nil || h.ListingsMarked != 0 || h.Left != 1 {
		t.Fatalf("heal = %+v, %v; want nothing marked and the row left", h, err)
	}
}
