package ekm_test

import (
	"context"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ekmsync/ekmsync/internal/ekm"
	"github.com/ekmsync/ekmsync/internal/ekmsim"
)

const tokenRoute = "POST /connect/token"

// authorize runs the authorization-code flow against an auto-approving
// simulator and returns the code handed to the redirect URI.
func authorize(t *testing.T, env *simEnv, redirect string) string {
	t.Helper()
	state := ekm.NewState()
	hc := *env.hc
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := hc.Get(ekm.AuthorizeURL(baseURL, "ekmsim-demo-client", redirect, state, ekm.DefaultScopes))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode/100 != 3 {
		t.Fatalf("authorize answered %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if loc.Query().Get("state") != state || loc.Query().Get("code") == "" {
		t.Fatalf("callback %s lacks the code or the state", loc)
	}
	return loc.Query().Get("code")
}

// currencyFrom20Goroutines calls Currency from 20 goroutines at once.
func currencyFrom20Goroutines(t *testing.T, c *ekm.Client) {
	t.Helper()
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, err := c.Currency(t.Context()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}

func TestSimOAuthCodeExchangeRefreshRotationAndReuse(t *testing.T) {
	simTest(t, ekmsim.Options{AutoApprove: true}, ekm.Config{}, func(t *testing.T, env *simEnv) {
		ctx, tokenURL := t.Context(), ekm.TokenURL(baseURL)
		const redirect = "http://127.0.0.1:8765/callback"
		code := authorize(t, env, redirect)
		first, err := ekm.ExchangeCode(ctx, env.hc, tokenURL, "ekmsim-demo-client", "ekmsim-demo-secret", code, redirect)
		if err != nil || first.AccessToken == "" || first.RefreshToken == "" || time.Until(first.Expiry) != time.Hour {
			t.Fatalf("ExchangeCode = %v, %v", first, err)
		}
		if _, err := ekm.ExchangeCode(ctx, env.hc, tokenURL, "ekmsim-demo-client", "ekmsim-demo-secret", code, redirect); !ekm.IsNeedsReauth(err) {
			t.Errorf("second exchange of one code: err = %v, want needs-reauth (invalid_grant)", err)
		}

		second, err := ekm.RefreshTokens(ctx, env.hc, tokenURL, "ekmsim-demo-client", "ekmsim-demo-secret", first.RefreshToken)
		if err != nil || second.RefreshToken == first.RefreshToken || second.AccessToken == first.AccessToken {
			t.Fatalf("refresh = %v, %v; want rotated tokens", second, err)
		}
		_, err = ekm.RefreshTokens(ctx, env.hc, tokenURL, "ekmsim-demo-client", "ekmsim-demo-secret", first.RefreshToken)
		if e := ekm.AsError(err); e == nil || e.Kind != ekm.KindNeedsReauth || e.OAuthError != "invalid_grant" || ekm.IsRetryable(err) {
			t.Errorf("reused refresh token: err = %v, want needs-reauth", err)
		}
		_, err = ekm.RefreshTokens(ctx, env.hc, tokenURL, "ekmsim-demo-client", "wrong-secret", second.RefreshToken)
		if ekm.KindOf(err) != ekm.KindInvalidClient {
			t.Errorf("bad client secret: err = %v, want invalid client", err)
		}

		// The new pair works for API calls.
		c := ekm.New(ekm.Config{BaseURL: baseURL, HTTPClient: env.hc, Tokens: ekm.NewTokenSource(ekm.TokenSourceConfig{
			TokenURL: tokenURL, ClientID: "ekmsim-demo-client", ClientSecret: "ekmsim-demo-secret",
			Store: ekm.NewMemoryTokenStore(second), HTTPClient: env.hc,
		})})
		if _, err := c.Currency(ctx); err != nil {
			t.Errorf("Currency with the refreshed token: %v", err)
		}
	})
}

func TestSimTwentyGoroutinesWithOneExpiredTokenRefreshOnce(t *testing.T) {
	simTest(t, ekmsim.Options{AccessTokenTTL: 10 * time.Minute}, ekm.Config{}, func(t *testing.T, env *simEnv) {
		time.Sleep(11 * time.Minute) // the issued access token has expired at EKM and in the store
		before := env.sim.RequestCounts()[tokenRoute]
		currencyFrom20Goroutines(t, env.client)
		if n := env.sim.RequestCounts()[tokenRoute] - before; n != 1 {
			t.Errorf("%d refreshes at the simulator, want exactly 1", n)
		}
		if n := env.sim.RequestStats().ByStatus["401"]; n != 0 {
			t.Errorf("%d requests went out with the expired token", n)
		}
	})
}

func TestSimTwentyGoroutinesRejectedWithOneTokenRefreshOnce(t *testing.T) {
	// The store believes the token is good for an hour; EKM says it expired.
	simTest(t, ekmsim.Options{AccessTokenTTL: 10 * time.Minute}, ekm.Config{}, func(t *testing.T, env *simEnv) {
		stored, _ := env.store.Load(t.Context())
		stored.Expiry = time.Now().Add(2 * time.Hour)
		env.store.Set(stored)
		time.Sleep(11 * time.Minute)
		currencyFrom20Goroutines(t, env.client)
		if n := env.sim.RequestCounts()[tokenRoute]; n != 1 {
			t.Errorf("%d refreshes at the simulator after 20 401s, want exactly 1", n)
		}
	})
}

func TestSimRevokedConsentNeedsReauth(t *testing.T) {
	simTest(t, ekmsim.Options{}, ekm.Config{}, func(t *testing.T, env *simEnv) {
		var hooked []error
		env.tokens = ekm.NewTokenSource(ekm.TokenSourceConfig{
			TokenURL: ekm.TokenURL(baseURL), ClientID: "ekmsim-demo-client", ClientSecret: "ekmsim-demo-secret",
			Store: env.store, HTTPClient: env.hc,
			OnNeedsReauth: func(_ context.Context, err error) { hooked = append(hooked, err) },
		})
		c := ekm.New(ekm.Config{BaseURL: baseURL, HTTPClient: env.hc, Tokens: env.tokens})
		if _, err := c.Currency(t.Context()); err != nil {
			t.Fatal(err)
		}
		env.sim.RevokeConsent()
		// 401 with the access token, one forced refresh, invalid_grant.
		_, err := c.Currency(t.Context())
		if !ekm.IsNeedsReauth(err) || ekm.IsRetryable(err) {
			t.Fatalf("after revoke: err = %v, want needs-reauth", err)
		}
		if _, err := c.GetOrder(t.Context(), 1); !ekm.IsNeedsReauth(err) {
			t.Errorf("second call: err = %v, want needs-reauth", err)
		}
		if len(hooked) != 1 || env.sim.RequestCounts()[tokenRoute] != 1 {
			t.Errorf("OnNeedsReauth called %d times after %d refreshes, want 1 and 1", len(hooked), env.sim.RequestCounts()[tokenRoute])
		}
	})
}

func TestSimMissingScopeIsForbidden(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		env := newSimEnv(t, ekmsim.Options{}, ekm.Config{})
		tr := env.sim.IssueScopedTokens(ekmsim.ScopeOrdersRead, ekmsim.ScopeOfflineAccess)
		env.store.Set(ekm.Tokens{AccessToken: tr.AccessToken, RefreshToken: tr.RefreshToken, Expiry: time.Now().Add(time.Hour)})
		_, err := env.client.Currency(t.Context())
		if e := ekm.AsError(err); e == nil || e.Kind != ekm.KindForbidden || e.Status != 403 {
			t.Errorf("err = %v, want forbidden", err)
		}
		if _, err := env.client.GetOrder(t.Context(), env.sim.Orders()[0].ID); err != nil {
			t.Errorf("a call within the scope failed: %v", err)
		}
	})
}
