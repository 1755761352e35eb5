package activities

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/ekm"
	"github.com/ekmsync/ekmsync/internal/ekm/ekmtest"
	"github.com/ekmsync/ekmsync/internal/ekmsim"
	"github.com/ekmsync/ekmsync/internal/store/storetest"
)

// TestMalformedOrdersAreQuarantinedAndNeverBlockThePage: a page holding orders
// without an order number, with an unparseable date, in a status the shop does
// not list, and without an id stores its good order and quarantines each of the
// others with its reason; processing it again changes nothing but the counts.
func TestMalformedOrdersAreQuarantinedAndNeverBlockThePage(t *testing.T) {
	ctx := context.Background()
	db := storetest.New(t)
	sim := ekmsim.New(ekmsim.Options{Seed: 1, Products: 5})
	t.Cleanup(sim.Close)
	s := channel.Defaults()
	s.Name, s.APIBaseURL, s.ClientID, s.RedirectURL, s.Currency = "shop", "http://ekm.test", "cid", "http://127.0.0.1:8765/callback", "GBP"
	s.ShopStatuses = []string{"Pending", "Processing", "Dispatched"}
	s.Mapping = channel.DefaultMapping(s.ShopStatuses)
	s, err := db.Store.CreateChannel(ctx, s, func(int64) []byte { return []byte("sealed") }, "test")
	if err != nil {
		t.Fatal(err)
	}
	access, refresh := sim.IssueTokens()
	hc := ekmtest.Client(sim.Handler())
	client := ekm.New(ekm.Config{BaseURL: "http://ekm.test", HTTPClient: hc, Tokens: ekm.NewTokenSource(ekm.TokenSourceConfig{
		TokenURL: ekm.TokenURL("http://ekm.test"), ClientID: "ekmsim-demo-client", ClientSecret: "ekmsim-demo-secret", HTTPClient: hc,
		Store: ekm.NewMemoryTokenStore(ekm.Tokens{AccessToken: access, RefreshToken: refresh, Expiry: time.Now().Add(time.Hour)})})})
	good := sim.CreateOrder(ekmsim.OrderSpec{Status: "Processing"})
	goodRaw, err := client.GetOrderRaw(ctx, good.ID)
	if err != nil {
		t.Fatal(err)
	}
	raws := []json.RawMessage{
		json.RawMessage(`{"id": 900, "order_date": "2024-01-01T00:00:00Z", "status": "PROCESSING"}`),
		json.RawMessage(`{"id": 901, "order_number": "X", "order_date": "not a date", "status": "PROCESSING"}`),
		goodRaw,
		json.RawMessage(`{"id": 902, "order_number": "Y", "order_date": "2024-01-01T00:00:00Z", "status": "WEIRD"}`),
		json.RawMessage(`{"oops": true}`),
	}
	wantReasons := map[string]string{"900": "order_number", "901": "not a date", "902": "WEIRD", "sha256:": "order id 0"}
	for pass := 1; pass <= 2; pass++ {
		var counts OrderCounts
		r := &orderRun{a: &Activities{Store: db.Store}, s: s, client: client, now: time.Now(), res: &counts}
		p, err := r.prepare(ctx, raws)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.commit(ctx, p, nil); err != nil {
			t.Fatal(err)
		}
		if counts.Quarantined != 4 || (pass == 1 && counts.New != 1) || (pass == 2 && counts.Unchanged != 1) {
			t.Fatalf("pass %d: %+v", pass, counts)
		}
	}
	problems, err := db.Store.OrderProblems(ctx, s.ID)
	if err != nil || len(problems) != 4 {
		t.Fatalf("problems = %+v, %v", problems, err)
	}
	for _, p := range problems {
		found := false
		for key, reason := range wantReasons {
			if strings.HasPrefix(p.Key, key) && strings.Contains(p.Reason, reason) && p.Occurrences == 2 {
				found = true
			}
		}
		if !found {
			t.Errorf("problem %+v is not one of %v (seen twice)", p, wantReasons)
		}
	}
	hub, err := db.Store.HubOrders(ctx, s.ID, []int64{good.ID, 900, 901, 902})
	if err != nil || len(hub) != 1 || !hub[good.ID].Paid {
		t.Fatalf("hub = %+v, %v", hub, err)
	}
}
