package ekmsim

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ekmsync/ekmsync/internal/ekm"
)

const (
	testRedirect = "http://127.0.0.1:9999/callback"
	testScopes   = "openid offline_access tempest.orders.read tempest.orders.write tempest.products.read"
)

// authorizeURL is the URL a client sends the merchant to.
func authorizeURL(clientID, scope, redirect, state string) string {
	return "/connect/authorize?" + url.Values{
		"client_id": {clientID}, "scope": {scope}, "redirect_uri": {redirect},
		"response_type": {"code"}, "state": {state}, "prompt": {"login"},
	}.Encode()
}

// redirectParams follows nothing: it checks a 302 and returns the query of
// its Location.
func redirectParams(t *testing.T, r *response, wantPrefix string) url.Values {
	t.Helper()
	r.want(t, http.StatusFound)
	loc := r.header.Get("Location")
	if !strings.HasPrefix(loc, wantPrefix+"?") {
		t.Fatalf("redirect to %q, want %s?...", loc, wantPrefix)
	}
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatalf("parsing Location: %v", err)
	}
	return u.Query()
}

// obtainCode runs /connect/authorize for an auto-approving shop.
func obtainCode(t *testing.T, c *tclient, scope string) string {
	t.Helper()
	q := redirectParams(t, c.get(authorizeURL(defaultClientID, scope, testRedirect, "xyz")), testRedirect)
	if q.Get("state") != "xyz" || q.Get("scope") != scope || q.Get("code") == "" {
		t.Fatalf("callback params %v, want code, scope %q and state xyz", q, scope)
	}
	return q.Get("code")
}

// tokenForm is a token request of the demo client.
func tokenForm(grant string, kv ...string) url.Values {
	f := url.Values{"grant_type": {grant}, "client_id": {defaultClientID}, "client_secret": {defaultClientSecret}}
	for i := 0; i+1 < len(kv); i += 2 {
		f.Set(kv[i], kv[i+1])
	}
	return f
}

// tokens decodes a successful token response.
func tokens(t *testing.T, r *response) ekm.TokenResponse {
	t.Helper()
	r.want(t, http.StatusOK)
	var tr ekm.TokenResponse
	if err := json.Unmarshal(r.body, &tr); err != nil {
		t.Fatalf("decoding token response: %v", err)
	}
	return tr
}

// wantTokenError checks a token-endpoint error.
func wantTokenError(t *testing.T, r *response, code string) {
	t.Helper()
	r.want(t, http.StatusBadRequest)
	if string(r.body) != `{"error":"`+code+`"}` {
		t.Fatalf("body %s, want error %s", r.body, code)
	}
}

// jwtClaims decodes an access token's payload without verifying it.
func jwtClaims(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("access token is not a JWT: %q", token)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatalf("decoding payload: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("decoding claims: %v", err)
	}
	return m
}

func TestAuthorizationCodeFlow(t *testing.T) {
	sim := New(Options{Seed: 1, Orders: 3, AutoApprove: true, ShopUsername: "acme-shop"})
	defer sim.Close()
	c := &tclient{t: t, hc: memClient(sim)}
	code := obtainCode(t, c, testScopes)
	tr := tokens(t, postForm(t, c.hc, "/connect/token", tokenForm("authorization_code", "code", code, "redirect_uri", testRedirect)))
	if tr.TokenType != "Bearer" || tr.ExpiresIn != 3600 || tr.AccessToken == "" || tr.RefreshToken == "" {
		t.Fatalf("token response %+v, want a Bearer token for 3600 s with a refresh token", tr)
	}
	claims := jwtClaims(t, tr.AccessToken)
	if claims["sub"] != "acme-shop" || claims["client_id"] != defaultClientID {
		t.Errorf("claims %v, want sub acme-shop and the demo client", claims)
	}
	c.token = tr.AccessToken
	c.get("/api/v2/orders").want(t, http.StatusOK)

	// Codes are single use.
	wantTokenError(t, postForm(t, c.hc, "/connect/token", tokenForm("authorization_code", "code", code, "redirect_uri", testRedirect)), "invalid_grant")
}

func TestConsentPageApproveAndDeny(t *testing.T) {
	sim := New(Options{Seed: 1})
	defer sim.Close()
	c := &tclient{t: t, hc: memClient(sim)}
	page := c.get(authorizeURL(defaultClientID, testScopes, testRedirect, "s1")).want(t, http.StatusOK)
	for _, want := range []string{`<form method="post" action="/connect/authorize">`, `value="approve"`, `value="deny"`, `name="state" value="s1"`, "tempest.orders.write"} {
		if !strings.Contains(string(page.body), want) {
			t.Errorf("consent page lacks %s", want)
		}
	}
	form := url.Values{"client_id": {defaultClientID}, "scope": {testScopes}, "redirect_uri": {testRedirect}, "response_type": {"code"}, "state": {"s1"}}
	form.Set("decision", "deny")
	q := redirectParams(t, postForm(t, c.hc, "/connect/authorize", form), testRedirect)
	if q.Get("error") != "access_denied" || q.Get("code") != "" || q.Get("state") != "s1" {
		t.Errorf("deny redirected with %v, want error=access_denied", q)
	}
	form.Set("decision", "approve")
	q = redirectParams(t, postForm(t, c.hc, "/connect/authorize", form), testRedirect)
	tokens(t, postForm(t, c.hc, "/connect/token", tokenForm("authorization_code", "code", q.Get("code"), "redirect_uri", testRedirect)))
}

func TestAuthorizeErrors(t *testing.T) {
	sim := New(Options{Seed: 1, AutoApprove: true})
	defer sim.Close()
	c := &tclient{t: t, hc: memClient(sim)}
	c.get(authorizeURL("someone-else", testScopes, testRedirect, "s")).want(t, http.StatusBadRequest)
	c.get(authorizeURL(defaultClientID, testScopes, "not-a-url", "s")).want(t, http.StatusBadRequest)
	q := redirectParams(t, c.get(authorizeURL(defaultClientID, "tempest.orders.read tempest.teleport", testRedirect, "s")), testRedirect)
	if q.Get("error") != "invalid_scope" {
		t.Errorf("unknown scope: %v, want error=invalid_scope", q)
	}
	u := strings.Replace(authorizeURL(defaultClientID, testScopes, testRedirect, "s"), "response_type=code", "response_type=token", 1)
	if q := redirectParams(t, c.get(u), testRedirect); q.Get("error") != "unsupported_response_type" {
		t.Errorf("response_type=token: %v, want unsupported_response_type", q)
	}
}

func TestTokenEndpointErrors(t *testing.T) {
	sim := New(Options{Seed: 1, AutoApprove: true})
	defer sim.Close()
	c := &tclient{t: t, hc: memClient(sim)}

	bad := tokenForm("authorization_code", "code", obtainCode(t, c, testScopes), "redirect_uri", testRedirect)
	bad.Set("client_secret", "wrong")
	wantTokenError(t, postForm(t, c.hc, "/connect/token", bad), "invalid_client")

	code := obtainCode(t, c, testScopes)
	wantTokenError(t, postForm(t, c.hc, "/connect/token", tokenForm("authorization_code", "code", code, "redirect_uri", "http://127.0.0.1:9999/other")), "invalid_grant")
	// The failed attempt consumed the code.
	wantTokenError(t, postForm(t, c.hc, "/connect/token", tokenForm("authorization_code", "code", code, "redirect_uri", testRedirect)), "invalid_grant")
	wantTokenError(t, postForm(t, c.hc, "/connect/token", tokenForm("password", "username", "x")), "unsupported_grant_type")
	wantTokenError(t, postForm(t, c.hc, "/connect/token", tokenForm("refresh_token", "refresh_token", "nope")), "invalid_grant")

	// HTTP Basic client authentication works too.
	form := url.Values{"grant_type": {"authorization_code"}, "code": {obtainCode(t, c, testScopes)}, "redirect_uri": {testRedirect}}
	req, _ := http.NewRequest(http.MethodPost, testBase+"/connect/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(defaultClientID, defaultClientSecret)
	resp, err := c.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("basic auth exchange: status %d", resp.StatusCode)
	}
}

func TestRefreshRotationAndReuse(t *testing.T) {
	sim := New(Options{Seed: 1, AutoApprove: true})
	defer sim.Close()
	c := &tclient{t: t, hc: memClient(sim)}
	first := tokens(t, postForm(t, c.hc, "/connect/token", tokenForm("authorization_code", "code", obtainCode(t, c, testScopes), "redirect_uri", testRedirect)))
	second := tokens(t, postForm(t, c.hc, "/connect/token", tokenForm("refresh_token", "refresh_token", first.RefreshToken)))
	if second.RefreshToken == "" || second.RefreshToken == first.RefreshToken || second.AccessToken == first.AccessToken {
		t.Fatal("a refresh must return a new access token and a new refresh token")
	}
	wantTokenError(t, postForm(t, c.hc, "/connect/token", tokenForm("refresh_token", "refresh_token", first.RefreshToken)), "invalid_grant")
	// Reusing the old token does not spoil the new one (ASSUMED: no reuse detection).
	third := tokens(t, postForm(t, c.hc, "/connect/token", tokenForm("refresh_token", "refresh_token", second.RefreshToken)))
	c.token = third.AccessToken
	c.get("/api/v1/products").want(t, http.StatusOK)

	// A refresh may narrow the scopes, not widen them.
	narrow := tokens(t, postForm(t, c.hc, "/connect/token", tokenForm("refresh_token", "refresh_token", third.RefreshToken, "scope", "tempest.orders.read")))
	c.token = narrow.AccessToken
	c.get("/api/v2/orders").want(t, http.StatusOK)
	c.get("/api/v1/products").want(t, http.StatusForbidden)
	wantTokenError(t, postForm(t, c.hc, "/connect/token", tokenForm("refresh_token", "refresh_token", narrow.RefreshToken, "scope", "tempest.settings.tax.write")), "invalid_scope")
	// The refresh token still carries the consented scopes.
	wide := tokens(t, postForm(t, c.hc, "/connect/token", tokenForm("refresh_token", "refresh_token", narrow.RefreshToken)))
	c.token = wide.AccessToken
	c.get("/api/v1/products").want(t, http.StatusOK)
}

func TestNoRefreshTokenWithoutOfflineAccess(t *testing.T) {
	sim := New(Options{Seed: 1, AutoApprove: true})
	defer sim.Close()
	c := &tclient{t: t, hc: memClient(sim)}
	tr := tokens(t, postForm(t, c.hc, "/connect/token", tokenForm("authorization_code", "code", obtainCode(t, c, "tempest.orders.read"), "redirect_uri", testRedirect)))
	if tr.RefreshToken != "" || strings.Contains(string(mustJSON(t, tr)), `"refresh_token":"x`) {
		t.Errorf("refresh token %q issued without offline_access", tr.RefreshToken)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestAccessTokenExpiresAndRefreshSlides(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sim := New(Options{Seed: 1, AccessTokenTTL: 2 * time.Second, RefreshTokenTTL: 10 * time.Second})
		defer sim.Close()
		c := newClient(t, sim)
		access, refresh := sim.IssueTokens()
		c.token = access
		c.get("/api/v2/orders").want(t, http.StatusOK)
		time.Sleep(2 * time.Second)
		r := c.get("/api/v2/orders").want(t, http.StatusUnauthorized)
		if r.header.Get("WWW-Authenticate") != wwwAuthenticateExpired || len(r.body) != 0 {
			t.Errorf("expired token: WWW-Authenticate %q body %q", r.header.Get("WWW-Authenticate"), r.body)
		}

		// Each refresh restarts the refresh lifetime: 9 s + 9 s is past the
		// first token's 10 s but every token is used within its own 10 s.
		time.Sleep(7 * time.Second)
		tr := tokens(t, postForm(t, c.hc, "/connect/token", tokenForm("refresh_token", "refresh_token", refresh)))
		if tr.ExpiresIn != 2 {
			t.Errorf("expires_in %d, want the configured 2 s", tr.ExpiresIn)
		}
		time.Sleep(9 * time.Second)
		tr = tokens(t, postForm(t, c.hc, "/connect/token", tokenForm("refresh_token", "refresh_token", tr.RefreshToken)))
		time.Sleep(10 * time.Second)
		wantTokenError(t, postForm(t, c.hc, "/connect/token", tokenForm("refresh_token", "refresh_token", tr.RefreshToken)), "invalid_grant")
	})
}

func TestAuthorizationCodeExpiresAfterFiveMinutes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sim := New(Options{Seed: 1, AutoApprove: true})
		defer sim.Close()
		c := &tclient{t: t, hc: memClient(sim)}
		fresh := obtainCode(t, c, testScopes)
		stale := obtainCode(t, c, testScopes)
		time.Sleep(4*time.Minute + 59*time.Second)
		tokens(t, postForm(t, c.hc, "/connect/token", tokenForm("authorization_code", "code", fresh, "redirect_uri", testRedirect)))
		time.Sleep(time.Second)
		wantTokenError(t, postForm(t, c.hc, "/connect/token", tokenForm("authorization_code", "code", stale, "redirect_uri", testRedirect)), "invalid_grant")
	})
}

func TestRevokeConsentInvalidatesEveryToken(t *testing.T) {
	sim := New(Options{Seed: 1, AutoApprove: true})
	defer sim.Close()
	c := newClient(t, sim)
	access, refresh := sim.IssueTokens()
	flow := tokens(t, postForm(t, c.hc, "/connect/token", tokenForm("authorization_code", "code", obtainCode(t, c, testScopes), "redirect_uri", testRedirect)))
	pending := obtainCode(t, c, testScopes)
	sim.RevokeConsent()
	for _, tok := range []string{access, flow.AccessToken, c.token} {
		c.token = tok
		if r := c.get("/api/v2/orders").want(t, http.StatusUnauthorized); r.header.Get("WWW-Authenticate") == "" {
			t.Error("401 without WWW-Authenticate")
		}
	}
	for _, rt := range []string{refresh, flow.RefreshToken} {
		wantTokenError(t, postForm(t, c.hc, "/connect/token", tokenForm("refresh_token", "refresh_token", rt)), "invalid_grant")
	}
	wantTokenError(t, postForm(t, c.hc, "/connect/token", tokenForm("authorization_code", "code", pending, "redirect_uri", testRedirect)), "invalid_grant")
	// Reauthorising works.
	again := tokens(t, postForm(t, c.hc, "/connect/token", tokenForm("authorization_code", "code", obtainCode(t, c, testScopes), "redirect_uri", testRedirect)))
	c.token = again.AccessToken
	c.get("/api/v2/orders").want(t, http.StatusOK)
}

func TestUnauthorizedAndForbidden(t *testing.T) {
	sim := New(smallShop())
	defer sim.Close()
	c := newClient(t, sim)
	good := c.token

	c.token = ""
	r := c.get("/api/v2/orders").want(t, http.StatusUnauthorized)
	if r.header.Get("WWW-Authenticate") != "Bearer" || len(r.body) != 0 {
		t.Errorf("no token: WWW-Authenticate %q, body %q; want Bearer and empty", r.header.Get("WWW-Authenticate"), r.body)
	}
	if r.header.Get("X-EKM-RateLimit-Remaining") != "" {
		t.Error("a 401 is not attributed to a bucket and carries no rate-limit headers")
	}
	parts := strings.Split(good, ".")
	for _, tok := range []string{"garbage", parts[0] + "." + parts[1] + ".forged", parts[0] + ".e30." + parts[2]} {
		c.token = tok
		if r := c.get("/api/v2/orders").want(t, http.StatusUnauthorized); !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer error=") {
			t.Errorf("bad token %q: WWW-Authenticate %q", tok, r.header.Get("WWW-Authenticate"))
		}
	}

	c.token = sim.IssueScopedTokens(ScopeOrdersRead).AccessToken
	c.get("/api/v2/orders/1").want(t, http.StatusOK)
	for _, tc := range []struct{ method, path string }{
		{http.MethodPut, "/api/v2/orders/1/status"},
		{http.MethodGet, "/api/v1/products"},
		{http.MethodPut, "/api/v1/products/1/stock"},
		{http.MethodGet, "/api/v1/settings/orderstatuses"},
		{http.MethodGet, "/api/v1/settings/currency"},
	} {
		r := c.do(tc.method, tc.path, map[string]any{"status": "Complete", "stock": 1}).want(t, http.StatusForbidden)
		if len(r.body) != 0 || r.header.Get("X-EKM-RateLimit-Remaining") == "" {
			t.Errorf("%s %s: 403 should have an empty body and rate-limit headers", tc.method, tc.path)
		}
	}
	if n := len(sim.Writes(WriteFilter{})); n != 0 {
		t.Errorf("%d writes recorded from forbidden requests", n)
	}
}
