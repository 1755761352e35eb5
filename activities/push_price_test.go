package activities_test

import (
	"context"
	"testing"

	"github.com/ekmsync/ekmsync/activities"
	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/ekmsim"
	"github.com/ekmsync/ekmsync/internal/store"
	"github.com/ekmsync/ekmsync/internal/store/hubtest"
)

// A price EKM already shows is counted as already there and written nowhere; a
// new one is written, and the write's answer confirms the stock it carried back.
func TestPushPricesCountsAPriceAlreadyOnEKMAndConfirmsTheStockItCarried(t *testing.T) {
	ls := newListingShop(t, 3)
	ctx := context.Background()
	if _, _, err := ls.db.Store.UpdateChannel(ctx, "shop", "test", func(cur channel.Settings) (channel.Settings, []channel.AppliedChange, error) {
		return channel.Apply(cur, []channel.Change{{Key: "price-change", Value: "on"}})
	}); err != nil {
		t.Fatal(err)
	}
	var p = ls.sim.Products()[0]
	for _, pr := range ls.sim.Products() {
		if len(pr.Variants) == 0 && pr.ProductCode != "" {
			p = pr
			break
		}
	}
	stale := p.Price - 1 // the download saw an older price: the hub's is pending
	hubtest.InsertListing(t, ls.db.Pool, hubtest.Listing{ChannelID: ls.ch.ID, ProductID: p.ID, SKU: p.ProductCode, EKMPrice: &stale, EKMStock: &p.NumberInStock})
	push := func(price float64) activities.StepResult {
		t.Helper()
		if _, err := ls.db.Store.SetPrice(ctx, p.ProductCode, store.PenniesOf(price), "test"); err != nil {
			t.Fatal(err)
		}
		res, err := run[activities.StepResult](t, ls, ls.acts.PushPrices, activities.PushInput{Channel: "shop"})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	if res := push(p.Price); res.Already != 1 || res.Sent != 0 {
		t.Fatalf("a price EKM already shows: %+v, want 1 already and nothing sent", res)
	}
	if w := ls.sim.Writes(ekmsim.WriteFilter{Kind: ekmsim.KindProductUpdate}); len(w) != 0 {
		t.Fatalf("%d product writes for a price EKM already showed", len(w))
	}
	// EKM's stock moved since the download saw it: the write's answer says so.
	if _, err := ls.sim.UpdateProduct(p.ID, ekmsim.ProductPatch{Stock: hubtest.Ptr(p.NumberInStock + 7)}); err != nil {
		t.Fatal(err)
	}
	if res := push(p.Price + 2); res.Sent != 1 {
		t.Fatalf("a new price: %+v, want 1 sent", res)
	}
	var qty int64
	if err := ls.db.Pool.QueryRow(ctx, `SELECT confirmed_qty FROM listing_outbound WHERE product_id = $1`, p.ID).Scan(&qty); err != nil {
		t.Fatal(err)
	}
	if qty != p.NumberInStock+7 {
		t.Errorf("stock confirmed after the price write: %d, want EKM's %d", qty, p.NumberInStock+7)
	}
}
