package shop_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/ekm"
	"github.com/ekmsync/ekmsync/internal/ekmsim"
	"github.com/ekmsync/ekmsync/internal/shop"
	"github.com/ekmsync/ekmsync/internal/store"
	"github.com/ekmsync/ekmsync/internal/store/hubtest"
	"github.com/ekmsync/ekmsync/internal/store/storetest"
)

// setup adds an enabled, authorised channel for a simulator and returns its connector.
func setup(t *testing.T) (*shop.Connector, *store.Store, *ekmsim.Sim, channel.Settings) {
	t.Helper()
	db := storetest.New(t)
	sim, conn, created := hubtest.SimChannel(t, db, ekmsim.Options{Seed: 1, Products: 5, Orders: 5})
	return conn, db.Store, sim, created
}

// The gate reads the channel afresh before every request: the first call after a
// disable is refused without reaching EKM.
func TestGateStopsTheVeryNextCallAfterADisable(t *testing.T) {
	conn, st, sim, s := setup(t)
	ctx := context.Background()
	c, err := conn.Client(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Currency(ctx); err != nil {
		t.Fatalf("enabled channel: %v", err)
	}
	before := sim.RequestCounts()["GET /api/v1/settings/currency"]
	if _, _, err := st.UpdateChannel(ctx, "shop", "test", func(cur channel.Settings) (channel.Settings, []channel.AppliedChange, error) {
		return channel.Apply(cur, []channel.Change{{Key: "enabled", Value: "off"}})
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Currency(ctx); !errors.Is(err, shop.ErrDisabled) {
		t.Fatalf("after disable: %v, want ErrDisabled", err)
	}
	if after := sim.RequestCounts()["GET /api/v1/settings/currency"]; after != before {
		t.Fatalf("a request reached EKM after the disable (%d -> %d)", before, after)
	}
}

// A channel switched to shadow mode writes nothing more to the shop from its very
// next request, even through a client made before the switch; it still reads.
func TestGateRefusesShopWritesInShadowMode(t *testing.T) {
	conn, st, sim, s := setup(t)
	ctx := context.Background()
	c, err := conn.Client(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	pr := sim.CreateProduct(ekmsim.ProductSpec{})
	if _, err := c.SetProductStock(ctx, pr.ID, 3); err != nil {
		t.Fatalf("live channel: %v", err)
	}
	if _, _, err := st.UpdateChannel(ctx, "shop", "test", func(cur channel.Settings) (channel.Settings, []channel.AppliedChange, error) {
		return channel.Apply(cur, []channel.Change{{Key: "mode", Value: "shadow"}})
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SetProductStock(ctx, pr.ID, 4); !errors.Is(err, shop.ErrShadow) {
		t.Fatalf("stock write in shadow mode: %v, want ErrShadow", err)
	}
	if w := sim.Writes(ekmsim.WriteFilter{ProductID: pr.ID}); len(w) != 1 {
		t.Fatalf("%d writes reached the shop, want only the one made while live", len(w))
	}
	if _, err := c.GetProduct(ctx, pr.ID); err != nil {
		t.Fatalf("a read in shadow mode: %v, want it sent", err)
	}
}

// When EKM rejects the refresh token, the channel is marked needs-reauth at once
// and every later call is stopped by the gate.
func TestRejectedRefreshMarksTheChannelAndStopsCalls(t *testing.T) {
	conn, st, sim, s := setup(t)
	ctx := context.Background()
	c, err := conn.Client(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	sim.RevokeConsent()
	if _, err := c.Currency(ctx); !ekm.IsNeedsReauth(err) {
		t.Fatalf("after revoke: %v, want needs-reauth", err)
	}
	got, _ := st.Channel(ctx, "shop")
	if got.AuthState != channel.AuthNeedsReauth || got.Status().State != channel.StateNeedsReauth {
		t.Fatalf("channel state = %s / %+v", got.AuthState, got.Status())
	}
	tokenCalls := sim.RequestCounts()["POST /connect/token"]
	if _, err := c.Currency(ctx); !errors.Is(err, shop.ErrNeedsReauth) {
		t.Fatalf("next call: %v, want the gate's ErrNeedsReauth", err)
	}
	if sim.RequestCounts()["POST /connect/token"] != tokenCalls {
		t.Fatal("the gate let a refresh attempt through")
	}
}

// A 403 (here a token without the currency scope) cannot be retried away: the
// channel is marked needs-reauth with the reason, and the gate stops later calls.
func TestForbiddenMarksTheChannelNeedsReauth(t *testing.T) {
	conn, st, sim, s := setup(t)
	ctx := context.Background()
	scoped := sim.IssueScopedTokens("openid", ekmsim.ScopeOfflineAccess, ekmsim.ScopeOrdersRead)
	if err := st.SaveTokens(ctx, conn.Key, s.ID, ekm.Tokens{AccessToken: scoped.AccessToken, RefreshToken: scoped.RefreshToken,
		Expiry: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	c, err := conn.Client(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Currency(ctx); ekm.KindOf(err) != ekm.KindForbidden {
		t.Fatalf("currency without its scope: %v, want a 403", err)
	}
	got, _ := st.Channel(ctx, "shop")
	if got.AuthState != channel.AuthNeedsReauth || got.Status().State != channel.StateNeedsReauth {
		t.Fatalf("after a 403 the channel state is %s / %+v, want needs-reauth", got.AuthState, got.Status())
	}
	if _, err := c.Currency(ctx); !errors.Is(err, shop.ErrNeedsReauth) {
		t.Fatalf("next call: %v, want the gate's ErrNeedsReauth", err)
	}
}

// A changed client secret builds a new client (the cached one would keep the old).
func TestClientIsRebuiltWhenTheConnectionSettingsChange(t *testing.T) {
	conn, st, _, s := setup(t)
	ctx := context.Background()
	first, _ := conn.Client(ctx, s)
	same, _ := conn.Client(ctx, s)
	if first != same {
		t.Fatal("the client was rebuilt without a change")
	}
	if err := st.SetClientSecret(ctx, conn.Key, s.ID, "another-secret"); err != nil {
		t.Fatal(err)
	}
	if next, _ := conn.Client(ctx, s); next == first {
		t.Fatal("the client was not rebuilt after the secret changed")
	}
}
