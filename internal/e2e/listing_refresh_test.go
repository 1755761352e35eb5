package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/ekmsync/ekmsync/internal/ekm"
	"github.com/ekmsync/ekmsync/internal/ekmsim"
	"github.com/ekmsync/ekmsync/internal/harness"
	"github.com/ekmsync/ekmsync/internal/store"
	"github.com/ekmsync/ekmsync/internal/store/hubtest"
)

// refreshJSON is what the test reads of 'listings refresh --json'.
type refreshJSON struct {
	Channel  string `json:"channel"`
	From     string `json:"from"`
	Products int    `json:"products"`
	Listings int    `json:"listings"`
	Skipped  string `json:"skipped"`
}

// A product edited in the simulator's admin after the full download reaches the
// hub through 'starter listings refresh', and a product deleted on EKM keeps its
// listing (only the full download removes); 'listings status' and 'channel show'
// show the refresh.
func TestListingRefreshThroughTheCLI(t *testing.T) {
	h := harness.New(t, harness.Options{Sim: ekmsim.Options{Products: 12, VariantShare: 0.2}})
	ctx := context.Background()
	var r refreshJSON
	h.CLIJSON(&r, "listings", "refresh", h.Channel)
	if r.From != "" || !strings.Contains(r.Skipped, "listings download") {
		t.Fatalf("refresh before any download: %+v, want nothing read and the command that downloads", r)
	}
	if res := downloadAndWait(t, h); res.Phase != "completed" {
		t.Fatalf("download: %+v", res)
	}

	var edited, deleted ekm.Product
	for _, p := range h.Sim.Products() {
		if len(p.Variants) > 0 {
			continue
		}
		if edited.ID == 0 {
			edited = p
		} else if deleted.ID == 0 {
			deleted = p
		}
	}
	if _, err := h.Sim.UpdateProduct(edited.ID, ekmsim.ProductPatch{Price: hubtest.Ptr(42.42), Stock: hubtest.Ptr[int64](9)}); err != nil {
		t.Fatal(err)
	}
	if err := h.Sim.DeleteProduct(deleted.ID); err != nil {
		t.Fatal(err)
	}

	r = refreshJSON{}
	h.CLIJSON(&r, "listings", "refresh", h.Channel)
	if r.From == "" || r.Products != 1 || r.Listings != 1 {
		t.Fatalf("refresh: %+v, want the one edited product read", r)
	}
	listings, err := h.Store().Listings(ctx, h.Settings().ID)
	if err != nil {
		t.Fatal(err)
	}
	byProduct := map[int64]store.StoredListing{}
	for _, l := range listings {
		byProduct[l.ProductID] = l
	}
	if l := byProduct[edited.ID]; l.Price != 42.42 || l.Stock != 9 {
		t.Errorf("edited product's listing: %+v, want price 42.42 and stock 9", l)
	}
	if l, ok := byProduct[deleted.ID]; !ok || l.RemovedAt != nil {
		t.Errorf("deleted product's listing: %+v (%t), want it kept, not removed: only the full download removes", l, ok)
	}

	var status struct {
		Refresh store.ListingRefresh `json:"refresh"`
	}
	h.CLIJSON(&status, "listings", "status", h.Channel)
	if s := status.Refresh; s.LastRunAt == nil || s.LastProducts != 1 || s.LastListings != 1 || s.ModifiedSince == nil {
		t.Errorf("listings status' refresh: %+v, want the last run's counts and the cursor", s)
	}
	if out := h.MustCLI("channel", "show", h.Channel); !strings.Contains(out, "Last listing refresh") ||
		!strings.Contains(out, "1 products read, 1 listings updated") || !strings.Contains(out, "Listing refresh interval") {
		t.Errorf("channel show does not show the refresh and its setting:\n%s", out)
	}

	// The full download stays the only source of removals.
	if res := downloadAndWait(t, h); res.Phase != "completed" {
		t.Fatalf("second download: %+v", res)
	}
	listings, err = h.Store().Listings(ctx, h.Settings().ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range listings {
		if l.ProductID == deleted.ID && l.RemovedAt == nil {
			t.Errorf("the full download left the deleted product's listing %+v", l)
		}
	}
}
