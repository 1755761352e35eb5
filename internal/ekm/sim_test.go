package ekm_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ekmsync/ekmsync/internal/ekm"
	"github.com/ekmsync/ekmsync/internal/ekm/ekmtest"
	"github.com/ekmsync/ekmsync/internal/ekmsim"
)

// These tests run the client against the EKM simulator, in memory inside
// testing/synctest so that the rate budget's waits pass in fake time.

const baseURL = "http://ekmsim.test"

// simEnv is one simulated shop with a client authorised on it.
type simEnv struct {
	sim    *ekmsim.Sim
	hc     *http.Client
	store  *ekm.MemoryTokenStore
	tokens ekm.TokenSource
	client *ekm.Client
}

// newSimEnv builds a shop from opts (seeded, small) and a client with tokens
// issued as by a completed authorisation. cfg's zero fields take defaults; its
// BaseURL, HTTPClient and Tokens are always set here. Call it inside a synctest
// bubble: the simulator's clock is then the bubble's.
func newSimEnv(t *testing.T, opts ekmsim.Options, cfg ekm.Config) *simEnv {
	t.Helper()
	if opts.Seed == 0 {
		opts.Seed = 7
	}
	if opts.Products == 0 {
		opts.Products, opts.VariantShare, opts.Orders = 30, 0.3, 45
	}
	sim := ekmsim.New(opts)
	t.Cleanup(sim.Close)
	env := &simEnv{sim: sim, hc: ekmtest.Client(sim.Handler())}
	tr := sim.IssueScopedTokens(ekmsim.IssuedScopes...)
	env.store = ekm.NewMemoryTokenStore(ekm.Tokens{
		AccessToken: tr.AccessToken, RefreshToken: tr.RefreshToken,
		Expiry: time.Now().Add(time.Duration(tr.ExpiresIn) * time.Second),
	})
	env.tokens = ekm.NewTokenSource(ekm.TokenSourceConfig{
		TokenURL: ekm.TokenURL(baseURL), ClientID: "ekmsim-demo-client", ClientSecret: "ekmsim-demo-secret",
		Store: env.store, HTTPClient: env.hc,
	})
	cfg.BaseURL, cfg.HTTPClient, cfg.Tokens = baseURL, env.hc, env.tokens
	env.client = ekm.New(cfg)
	return env
}

// simTest runs f in a synctest bubble with a fresh simulated shop.
func simTest(t *testing.T, opts ekmsim.Options, cfg ekm.Config, f func(t *testing.T, env *simEnv)) {
	synctest.Test(t, func(t *testing.T) { f(t, newSimEnv(t, opts, cfg)) })
}

func TestSimOrders(t *testing.T) {
	simTest(t, ekmsim.Options{}, ekm.Config{}, func(t *testing.T, env *simEnv) {
		ctx, c := t.Context(), env.client
		want := env.sim.Orders()

		// List, page by page, stopping at pages_total.
		var listed []int64
		for p, err := range ekm.Pages(ctx, 1, func(ctx context.Context, n int) (ekm.Page[ekm.Order], error) { return c.ListOrders(ctx, n, 20) }) {
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range p.Items {
				listed = append(listed, o.ID)
			}
		}
		if len(listed) != len(want) {
			t.Errorf("listed %d orders, the shop has %d", len(listed), len(want))
		}

		// Search with a filter and a stable order, decoding item by item.
		pending := 0
		for _, o := range want {
			if o.Status == "PENDING" {
				pending++
			}
		}
		var found []int64
		for p, err := range ekm.Pages(ctx, 1, c.OrderSearchPages(ekm.SearchOptions{Query: "status eq 'PENDING'", OrderBy: "-id", Limit: 7})) {
			if err != nil {
				t.Fatal(err)
			}
			for _, raw := range p.Items {
				o, err := ekm.DecodeOrder(raw)
				if err != nil {
					t.Fatal(err)
				}
				found = append(found, o.ID)
			}
		}
		if len(found) != pending || !slices.IsSortedFunc(found, func(a, b int64) int { return int(b - a) }) {
			t.Errorf("search found %v, want %d pending orders by descending id", found, pending)
		}
		_, err := c.SearchOrders(ctx, ekm.SearchOptions{Query: "status eqq 'x'"})
		if e := ekm.AsError(err); e == nil || e.Kind != ekm.KindBadRequest || len(e.Messages) == 0 {
			t.Errorf("bad search: err = %v, want bad request with EKM's message", err)
		}

		// One order, raw and typed, and its items.
		id := want[3].ID
		o, err := c.GetOrder(ctx, id)
		if err != nil || o.OrderNumber != want[3].OrderNumber {
			t.Fatalf("GetOrder = %+v, %v", o, err)
		}
		raw, err := c.GetOrderRaw(ctx, id)
		if err != nil || !json.Valid(raw) {
			t.Fatalf("GetOrderRaw = %s, %v", raw, err)
		}
		items, err := c.OrderItems(ctx, id)
		wantItems, _ := env.sim.OrderItems(id)
		if err != nil || len(items) != len(wantItems) || items[0].OrderID != id {
			t.Errorf("OrderItems = %+v, %v; want %d items", items, err, len(wantItems))
		}
		if _, err := c.GetOrder(ctx, 999999); ekm.KindOf(err) != ekm.KindNotFound {
			t.Errorf("unknown order: err = %v, want not found", err)
		}

		// Writes return the updated order and reach the shop once each.
		o, err = c.UpdateOrderStatus(ctx, id, ekm.OrderStatusUpdate{Status: "DISPATCHED"})
		if err != nil || o.Status != "DISPATCHED" {
			t.Errorf("UpdateOrderStatus = %q, %v", o.Status, err)
		}
		o, err = c.UpdateDeliveryTracking(ctx, id, ekm.DeliveryTracking{Number: "RM123", Company: "Royal Mail", URL: "https://track/RM123"})
		if err != nil || o.DeliveryTrackingNumber != "RM123" {
			t.Errorf("UpdateDeliveryTracking = %q, %v", o.DeliveryTrackingNumber, err)
		}
		o, err = c.UpdateInternalNotes(ctx, id, "Parcel 2: RM124")
		if err != nil || o.InternalNotes != "Parcel 2: RM124" {
			t.Errorf("UpdateInternalNotes = %q, %v", o.InternalNotes, err)
		}
		if _, err := c.UpdateOrderStatus(ctx, id, ekm.OrderStatusUpdate{Status: "NOT-A-STATUS"}); ekm.KindOf(err) != ekm.KindBadRequest {
			t.Errorf("unknown status: err = %v, want bad request", err)
		}
		for _, kind := range []string{ekmsim.KindOrderStatus, ekmsim.KindOrderTracking, ekmsim.KindOrderNotes} {
			if n := len(env.sim.Writes(ekmsim.WriteFilter{OrderID: id, Kind: kind})); n != 1 {
				t.Errorf("%s writes = %d, want 1", kind, n)
			}
		}
	})
}

func TestSimSettings(t *testing.T) {
	simTest(t, ekmsim.Options{}, ekm.Config{}, func(t *testing.T, env *simEnv) {
		statuses, err := env.client.OrderStatuses(t.Context())
		if err != nil || len(statuses) != len(env.sim.Statuses()) || statuses[0].Name != env.sim.Statuses()[0].Name {
			t.Errorf("OrderStatuses = %+v, %v", statuses, err)
		}
		cur, err := env.client.Currency(t.Context())
		if err != nil || cur != env.sim.Currency() {
			t.Errorf("Currency = %+v, %v; want %+v", cur, err, env.sim.Currency())
		}
	})
}

func TestSimProducts(t *testing.T) {
	simTest(t, ekmsim.Options{}, ekm.Config{}, func(t *testing.T, env *simEnv) {
		ctx, c := t.Context(), env.client
		var all []ekm.Product
		for p, err := range c.AllProducts(ctx) {
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, p)
		}
		if len(all) != len(env.sim.Products()) {
			t.Fatalf("listed %d products, the shop has %d", len(all), len(env.sim.Products()))
		}
		var withVariants ekm.Product
		for _, p := range all {
			if len(p.Variants) > 0 && p.ProductCode != "" {
				withVariants = p
				break
			}
		}
		if withVariants.ID == 0 {
			t.Fatal("the seeded shop has no product with variants")
		}
		pid := withVariants.ID

		page, err := c.SearchProducts(ctx, ekm.SearchOptions{Query: "product_code eq '" + withVariants.ProductCode + "'"})
		if err != nil || len(page.Items) != 1 || page.Items[0].ID != pid {
			t.Errorf("SearchProducts = %+v, %v", page, err)
		}
		if _, err := c.SearchProducts(ctx, ekm.SearchOptions{}); ekm.KindOf(err) != ekm.KindBadRequest {
			t.Errorf("search without query: err = %v, want bad request", err)
		}

		got, err := c.GetProduct(ctx, pid)
		if err != nil || got.Name != withVariants.Name {
			t.Fatalf("GetProduct = %+v, %v", got, err)
		}
		vid := withVariants.Variants[0].ID
		if _, err := c.GetProduct(ctx, vid); ekm.KindOf(err) != ekm.KindUnprocessable {
			t.Errorf("GetProduct(variant id): err = %v, want unprocessable", err)
		}

		u := got.ToUpdate()
		u.Price = 12.34
		updated, err := c.UpdateProduct(ctx, pid, u)
		if err != nil || updated.Price != 12.34 || updated.Name != got.Name {
			t.Errorf("UpdateProduct = price %v name %q, %v", updated.Price, updated.Name, err)
		}

		set, err := c.SetProductStock(ctx, pid, 17)
		if err != nil || set.Stock != 17 {
			t.Errorf("SetProductStock = %+v, %v", set, err)
		}
		stock, err := c.ProductStock(ctx, pid)
		if err != nil || stock.Stock != 17 || stock.TotalProductStock < 17 {
			t.Errorf("ProductStock = %+v, %v", stock, err)
		}

		variants, err := c.Variants(ctx, pid)
		if err != nil || len(variants) != len(withVariants.Variants) {
			t.Fatalf("Variants = %+v, %v", variants, err)
		}
		v := variants[0]
		v.Price = 5.55
		uv, err := c.UpdateVariant(ctx, pid, v)
		if err != nil || uv.Price != 5.55 {
			t.Errorf("UpdateVariant = %+v, %v", uv, err)
		}
		vs, err := c.SetVariantStock(ctx, pid, v.ID, 3)
		if err != nil || vs.Stock != 3 || vs.ParentProductID != pid {
			t.Errorf("SetVariantStock = %+v, %v", vs, err)
		}
		if sv, _ := env.sim.Variant(v.ID); sv.NumberInStock != 3 || sv.Price != 5.55 {
			t.Errorf("the shop has variant %+v", sv)
		}
		if _, err := c.SetProductStock(ctx, pid, -1); ekm.KindOf(err) != ekm.KindBadRequest {
			t.Errorf("negative stock: err = %v, want bad request", err)
		}
	})
}

func TestSimWebhooks(t *testing.T) {
	simTest(t, ekmsim.Options{}, ekm.Config{}, func(t *testing.T, env *simEnv) {
		ctx, c := t.Context(), env.client
		sub, err := c.CreateWebhook(ctx, ekm.AddWebhook{Topic: ekm.TopicOrderCreated, Endpoint: "https://hub.example/ekm/webhook", IsEnabled: true})
		if err != nil || sub.ID == "" || sub.MerchantUsername == "" {
			t.Fatalf("CreateWebhook = %+v, %v", sub, err)
		}
		subs, err := c.Webhooks(ctx)
		if err != nil || len(subs) != 1 || subs[0].ID != sub.ID {
			t.Fatalf("Webhooks = %+v, %v", subs, err)
		}
		if err := c.DeleteWebhook(ctx, sub.ID); err != nil {
			t.Fatal(err)
		}
		if err := c.DeleteWebhook(ctx, sub.ID); ekm.KindOf(err) != ekm.KindNotFound {
			t.Errorf("second delete: err = %v, want not found", err)
		}
		if subs, err := c.Webhooks(ctx); err != nil || len(subs) != 0 {
			t.Errorf("after delete Webhooks = %+v, %v", subs, err)
		}
	})
}
