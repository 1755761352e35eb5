package ekmsim

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/ekmsync/ekmsync/internal/ekm"
)

// farmClient is an EKM client of the named shop of a farm served at url, with
// a token the shop issued and a budget of its own.
func farmClient(t *testing.T, f *Farm, url, name string) *ekm.Client {
	t.Helper()
	return ekm.New(ekm.Config{BaseURL: BaseURL(url, name), HTTPClient: &http.Client{}, MaxAttempts: 1, Tokens: farmTokens(t, f, url, name)})
}

func TestFarmServesEachShopItsOwnDataClientAndBucket(t *testing.T) {
	f := NewFarm()
	t.Cleanup(f.Close)
	if _, err := f.Add("shop-a", Options{Seed: 1, Orders: 3, BucketSize: 3, LeakPerSecond: 0.001}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Add("shop-b", Options{Seed: 2, Orders: 5}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Add("shop-a", Options{}); err == nil {
		t.Error("a second shop-a was added")
	}
	if _, err := f.Add("../etc", Options{}); err == nil {
		t.Error("a shop named ../etc was added")
	}
	url, err := f.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a, b := farmClient(t, f, url, "shop-a"), farmClient(t, f, url, "shop-b")

	// Each shop answers with its own orders.
	for _, c := range []struct {
		client *ekm.Client
		shop   string
	}{{a, "shop-a"}, {b, "shop-b"}} {
		want := f.Shop(c.shop).Orders()[0]
		got, err := c.client.GetOrder(t.Context(), want.ID)
		if err != nil || got.OrderNumber != want.OrderNumber {
			t.Fatalf("%s: order %d = %+v, %v; want its own order %s", c.shop, want.ID, got, err, want.OrderNumber)
		}
	}

	// Shop a's bucket of 3 runs out; shop b's is untouched.
	for range 2 { // at order priority, which may fill the bucket
		if _, err := a.Currency(ekm.WithPriority(t.Context(), ekm.PriorityOrders)); err != nil {
			t.Fatal(err)
		}
	}
	// A client with a budget of its own, which thinks the bucket empty; its
	// context cannot outlive the 429's Retry-After, so the 429 comes back.
	a429 := ekm.New(ekm.Config{BaseURL: BaseURL(url, "shop-a"), HTTPClient: &http.Client{}, Budget: ekm.NewBudget(100, 100),
		Tokens: farmTokens(t, f, url, "shop-a")})
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if _, err := a429.Currency(ctx); ekm.KindOf(err) != ekm.KindRateLimited {
		t.Fatalf("shop a's full bucket answered %v, want 429", err)
	}
	if _, err := b.Currency(t.Context()); err != nil {
		t.Fatalf("shop b after shop a's bucket filled: %v", err)
	}
	if n := f.Shop("shop-b").RequestStats().RateLimited; n != 0 {
		t.Errorf("shop b answered %d 429s", n)
	}

	// A token of shop a is refused by shop b.
	cross := ekm.New(ekm.Config{BaseURL: BaseURL(url, "shop-b"), HTTPClient: &http.Client{}, MaxAttempts: 1,
		Tokens: farmTokens(t, f, url, "shop-a")})
	if _, err := cross.Currency(t.Context()); err == nil {
		t.Error("shop b accepted a token of shop a")
	}

	// No shop, no answer.
	resp, err := http.Get(url + "/shops/nobody/api/v2/settings/currency")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("an unknown shop answered %d, want 404", resp.StatusCode)
	}
}

// farmTokens is a token source with a token the named shop issued.
func farmTokens(t *testing.T, f *Farm, url, name string) ekm.TokenSource {
	t.Helper()
	access, refresh := f.Shop(name).IssueTokens()
	base := BaseURL(url, name)
	return ekm.NewTokenSource(ekm.TokenSourceConfig{
		TokenURL: ekm.TokenURL(base), ClientID: name + "-client", ClientSecret: name + "-secret",
		Store: ekm.NewMemoryTokenStore(ekm.Tokens{AccessToken: access, RefreshToken: refresh, Expiry: time.Now().Add(time.Hour)}),
	})
}
