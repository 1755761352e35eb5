package e2e

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ekmsync/ekmsync/internal/ekm"
	"github.com/ekmsync/ekmsync/internal/ekm/ekmtest"
	"github.com/ekmsync/ekmsync/internal/ekmsim"
	"github.com/ekmsync/ekmsync/internal/harness"
)

// TestPoisonOrderIsQuarantinedAndLandsAfterAFix (issue 12): a page holding an
// order with a NUL in a line name and an order with a quantity beyond the hub's
// integer range lands the good orders (the NUL one with the text made storable),
// the Order Sync Date moves past them, 'orders problems' lists the poison one
// with its reason; once the merchant fixes its lines on EKM, 'orders backfill
// --ids' (or the loop's own re-check of quarantined orders, if it comes first)
// lands it once and the problem is resolved.
func TestPoisonOrderIsQuarantinedAndLandsAfterAFix(t *testing.T) {
	h := harness.New(t, harness.Options{Sim: ekmsim.Options{Seed: 12, Products: 10}})
	base := time.Now().Add(-3 * time.Hour).UTC().Truncate(time.Second)
	before := h.Sim.CreateOrder(ekmsim.OrderSpec{Status: "Processing", OrderDate: base})
	nul := h.Sim.CreateOrder(ekmsim.OrderSpec{Status: "Processing", OrderDate: base.Add(time.Minute),
		Lines: []ekmsim.LineSpec{{ProductCode: "NUL-1", Name: "Mug\x00 with a NUL"}}})
	poison := h.Sim.CreateOrder(ekmsim.OrderSpec{Status: "Processing", OrderDate: base.Add(2 * time.Minute),
		Lines: []ekmsim.LineSpec{{ProductCode: "BIG-1", Quantity: 1 << 31, Price: ptr(0.01)}}})
	after := h.Sim.CreateOrder(ekmsim.OrderSpec{Status: "Processing", OrderDate: base.Add(3 * time.Minute)})

	res := syncNow(t, h)
	hub := hubOrders(t, h)
	for _, id := range []int64{before.ID, nul.ID, after.ID} {
		if _, in := hub[id]; !in {
			t.Fatalf("order %d did not land beside the poison order: %+v", id, res)
		}
	}
	if _, in := hub[poison.ID]; in || res.Quarantined != 1 {
		t.Fatalf("the poison order was stored, or not counted as quarantined: %+v", res)
	}
	if res.SyncDate == nil || res.SyncDate.Before(base.Add(3*time.Minute)) {
		t.Fatalf("Order Sync Date %v did not move past the poison order", res.SyncDate)
	}
	q := quarantinedIDs(t, h)
	if len(q) != 1 || !strings.Contains(q[poison.ID], "quantity 2147483648") {
		t.Fatalf("quarantined = %v, want order %d for its quantity", q, poison.ID)
	}
	out := h.MustCLI("orders", "problems", h.Channel)
	if !strings.Contains(out, "quantity 2147483648") {
		t.Fatalf("'orders problems' does not give the reason:\n%s", out)
	}
	var name string
	if err := h.DB.Pool.QueryRow(t.Context(), `SELECT l.name FROM order_lines l JOIN orders o ON o.id = l.order_id
		WHERE o.ekm_order_id = $1`, nul.ID).Scan(&name); err != nil || name != "Mug\uFFFD with a NUL" {
		t.Fatalf("stored line name %q (%v)", name, err)
	}

	// The merchant fixes the order on EKM; a back-fill by id lands it. The
	// webhooks are withdrawn first, so that the fix's order.updated cannot land
	// it before the back-fill does.
	dropWebhooks(t, h.Sim)
	if _, err := h.Sim.SetOrderLines(poison.ID, []ekmsim.LineSpec{{ProductCode: "BIG-1", Quantity: 2, Price: ptr(5.0)}}); err != nil {
		t.Fatal(err)
	}
	var bf struct {
		Done   bool `json:"done"`
		Result struct {
			Quarantined int     `json:"quarantined"`
			New         int     `json:"new"`
			Unchanged   int     `json:"unchanged"`
			Missing     []int64 `json:"missing"`
		} `json:"result"`
	}
	h.CLIJSON(&bf, "orders", "backfill", h.Channel, "--ids", strconv.FormatInt(poison.ID, 10), "--wait")
	// The loop re-checks quarantined orders at each sync, so it may have landed
	// the fixed order just before the back-fill: then the back-fill finds it
	// unchanged. Either way the order is stored once and the problem is gone.
	landed := bf.Result.New == 1 || bf.Result.New == 0 && bf.Result.Unchanged == 1
	if !bf.Done || !landed || bf.Result.Quarantined != 0 || len(bf.Result.Missing) != 0 {
		t.Fatalf("backfill after the fix: %+v", bf)
	}
	if _, in := hubOrders(t, h)[poison.ID]; !in {
		t.Fatal("the fixed order is not in the hub after the back-fill")
	}
	if q := quarantinedIDs(t, h); len(q) != 0 {
		t.Fatalf("problems left after the fix: %v", q)
	}
}

// dropWebhooks deletes the shop's webhook subscriptions, as the app itself
// could, so that no event reaches the worker from then on.
func dropWebhooks(t *testing.T, sim *ekmsim.Sim) {
	t.Helper()
	access, refresh := sim.IssueTokens()
	hc := ekmtest.Client(sim.Handler())
	c := ekm.New(ekm.Config{BaseURL: "http://ekm.test", HTTPClient: hc, Tokens: ekm.NewTokenSource(ekm.TokenSourceConfig{
		TokenURL: ekm.TokenURL("http://ekm.test"), ClientID: "ekmsim-demo-client", ClientSecret: "ekmsim-demo-secret", HTTPClient: hc,
		Store: ekm.NewMemoryTokenStore(ekm.Tokens{AccessToken: access, RefreshToken: refresh, Expiry: time.Now().Add(time.Hour)})})})
	subs, err := c.Webhooks(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, sub := range subs {
		if err := c.DeleteWebhook(t.Context(), sub.ID); err != nil {
			t.Fatal(err)
		}
	}
}
