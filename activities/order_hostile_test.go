package activities

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ekmsync/ekmsync/internal/ekm"
	"github.com/ekmsync/ekmsync/internal/ekm/ekmtest"
	"github.com/ekmsync/ekmsync/internal/ekmsim"
)

// simClient is a client of sim, through memory.
func simClient(sim *ekmsim.Sim) *ekm.Client {
	access, refresh := sim.IssueTokens()
	hc := ekmtest.Client(sim.Handler())
	return ekm.New(ekm.Config{BaseURL: "http://ekm.test", HTTPClient: hc, MaxAttempts: 1, Tokens: ekm.NewTokenSource(ekm.TokenSourceConfig{
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
	client := simClient(sim)
	pages := 0
	err := searchPages(context.Background(), client, windowFilter(time.Now().AddDate(0, -3, 0), nil), nil,
		func([]json.RawMessage, *orderCursor) error { pages++; return nil })
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
	_, err := simClient(sim).OrderItems(context.Background(), o.ID)
	if ekm.KindOf(err) != ekm.KindInvalidData {
		t.Fatalf("err = %v, want invalid data (the order is quarantined)", err)
	}
	if reason := itemsReason(err); !strings.Contains(reason, "1000 items") {
		t.Fatalf("reason %q does not say the bound", reason)
	}
}
