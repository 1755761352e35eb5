package activities

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ekmsync/ekmsync/internal/ekm"
	"github.com/ekmsync/ekmsync/internal/ekm/ekmtest"
	"github.com/ekmsync/ekmsync/internal/ekmsim"
	"github.com/ekmsync/ekmsync/internal/order"
)

// simClient is a client of sim, through memory; maxBody 0 means the default.
func simClient(sim *ekmsim.Sim, maxBody int64) *ekm.Client {
	access, refresh := sim.IssueTokens()
	hc := ekmtest.Client(sim.Handler())
	return ekm.New(ekm.Config{BaseURL: "http://ekm.test", HTTPClient: hc, MaxAttempts: 1, MaxBodyBytes: maxBody, Tokens: ekm.NewTokenSource(ekm.TokenSourceConfig{
		TokenURL: ekm.TokenURL("http://ekm.test"), ClientID: "ekmsim-demo-client", ClientSecret: "ekmsim-demo-secret", HTTPClient: hc,
		Store: ekm.NewMemoryTokenStore(ekm.Tokens{AccessToken: access, RefreshToken: refresh, Expiry: time.Now().Add(time.Hour)})})})
}

// A shop that answers the same page of its order search forever (pages_total
// 5 and more) stops the walk at the second page with an error that names it,
// instead of fetching it for ever.
func TestOrderSearchThatDoesNotAdvanceStopsWithAnErrorNamingIt(t *testing.T) {
	sim := ekmsim.New(ekmsim.Options{Seed: 3, Products: 5, Orders: 100})
	t.Cleanup(sim.Close)
	sim.SetHostile(ekmsim.Hostile{RepeatPage: true})
	client := simClient(sim, 0)
	pages := 0
	err := searchPages(context.Background(), client, order.WindowFilter(time.Now().AddDate(0, -3, 0), nil), nil,
		func([]json.RawMessage, *order.Cursor) error { pages++; return nil })
	if err == nil || !strings.Contains(err.Error(), "did not advance") || !strings.Contains(err.Error(), "page 1 of 5") {
		t.Fatalf("err = %v, want the search that did not advance named", err)
	}
	if n := sim.RequestCounts()["GET /api/v2/orders/search"]; n != 2 || pages != 1 {
		t.Fatalf("%d searches, %d pages handed on; want 2 and 1", n, pages)
	}
}

// An order with an absurd item list is quarantined with the reason; the rest
// of its page lands.
func TestOrderWithAnUnboundedItemListIsQuarantined(t *testing.T) {
	sim := ekmsim.New(ekmsim.Options{Seed: 3, Products: 5})
	t.Cleanup(sim.Close)
	lines := make([]ekmsim.LineSpec, ekm.MaxCollectItems+1)
	for i := range lines {
		lines[i] = ekmsim.LineSpec{ProductCode: "X"}
	}
	o := sim.CreateOrder(ekmsim.OrderSpec{Status: "Processing", Lines: lines})
	_, err := simClient(sim, 0).OrderItems(context.Background(), o.ID)
	if ekm.KindOf(err) != ekm.KindInvalidData {
		t.Fatalf("err = %v, want invalid data (the order is quarantined)", err)
	}
	if reason := order.ItemsReason(err); !strings.Contains(reason, "1000 items") {
		t.Fatalf("reason %q does not say the bound", reason)
	}
}

// Orders too large together for the body bound are read in smaller pages (all
// of them handed on, in order); one too large on its own stops the walk with an
// error that names where.
func TestOrderSearchReadsLargeOrdersInSmallerPages(t *testing.T) {
	sim := ekmsim.New(ekmsim.Options{Seed: 3, Products: 5})
	t.Cleanup(sim.Close)
	start := time.Now().Add(-time.Hour)
	var ids []int64
	for i := range 30 {
		o := sim.CreateOrder(ekmsim.OrderSpec{Status: "Processing", OrderDate: start.Add(time.Duration(i) * time.Minute)})
		ids = append(ids, o.ID)
	}
	notes := strings.Repeat("x", 30<<10)
	for _, i := range []int{4, 5, 6, 12} {
		if _, err := sim.UpdateOrder(ids[i], ekmsim.OrderPatch{CustomerFacingNotes: &notes}); err != nil {
			t.Fatal(err)
		}
	}
	client := simClient(sim, 40<<10)
	var got []int64
	walk := func() error {
		got = nil
		return searchPages(context.Background(), client, order.WindowFilter(start.Add(-time.Minute), nil), nil,
			func(raws []json.RawMessage, _ *order.Cursor) error {
				for _, raw := range raws {
					k, _ := order.KeyOf(raw)
					got = append(got, k.ID)
				}
				return nil
			})
	}
	if err := walk(); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(ids) || got[0] != ids[0] || got[len(got)-1] != ids[len(ids)-1] {
		t.Fatalf("read %v, want the %d orders in order", got, len(ids))
	}
	huge := strings.Repeat("x", 50<<10)
	if _, err := sim.UpdateOrder(ids[20], ekmsim.OrderPatch{CustomerFacingNotes: &huge}); err != nil {
		t.Fatal(err)
	}
	if err := walk(); err == nil || !strings.Contains(err.Error(), "body bound on its own") ||
		!strings.Contains(err.Error(), "order "+strconv.FormatInt(ids[19], 10)) {
		t.Fatalf("err = %v, want the order after %d named as too large", err, ids[19])
	}
	if len(got) != 20 {
		t.Fatalf("%d orders handed on before the one too large, want 20", len(got))
	}
}
