package ekm

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// containsAny reports whether s contains any of the needles.
func containsAny(s string, needles ...string) bool {
	for _, n := range needles {
		if strings.Contains(s, n) {
			return true
		}
	}
	return false
}

func TestAuthorizeURLCarriesSpaceSeparatedScopesAndLoginPrompt(t *testing.T) {
	raw := AuthorizeURL("https://api.ekm.net/", "the-client", "http://localhost:8080/callback", "st4te", DefaultScopes)
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if u.Scheme+"://"+u.Host+u.Path != "https://api.ekm.net/connect/authorize" {
		t.Errorf("endpoint = %s", raw)
	}
	q := u.Query()
	want := map[string]string{
		"client_id": "the-client", "redirect_uri": "http://localhost:8080/callback", "state": "st4te",
		"response_type": "code", "prompt": "login", "scope": strings.Join(DefaultScopes, " "),
	}
	for k, v := range want {
		if q.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, q.Get(k), v)
		}
	}
	if strings.Contains(q.Get("scope"), ",") || !strings.Contains(q.Get("scope"), "offline_access") {
		t.Errorf("scope = %q", q.Get("scope"))
	}
}

func TestNewStateIsUnguessable(t *testing.T) {
	a, b := NewState(), NewState()
	if a == b || len(a) < 22 {
		t.Errorf("states %q and %q", a, b)
	}
}

func TestExchangeCodePostsTheFormAndComputesTheExpiry(t *testing.T) {
	var form url.Values
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			t.Errorf("Content-Type = %q", r.Header.Get("Content-Type"))
		}
		_ = r.ParseForm()
		form = r.PostForm
		_ = json.NewEncoder(w).Encode(TokenResponse{AccessToken: "at", ExpiresIn: 3600, RefreshToken: "rt", TokenType: "Bearer"})
	})
	before := time.Now()
	tk, err := ExchangeCode(t.Context(), inMemoryClient(h), "http://ekm.test/connect/token", "cid", "csecret", "the-code", "http://cb")
	if err != nil {
		t.Fatal(err)
	}
	if tk.AccessToken != "at" || tk.RefreshToken != "rt" || tk.Expiry.Before(before.Add(time.Hour)) {
		t.Errorf("tokens = %v", tk)
	}
	want := url.Values{"grant_type": {"authorization_code"}, "client_id": {"cid"}, "client_secret": {"csecret"}, "code": {"the-code"}, "redirect_uri": {"http://cb"}}
	if form.Encode() != want.Encode() {
		t.Errorf("form = %v, want %v", form, want)
	}
}

func TestRefreshKeepsTheOldRefreshTokenWhenNoneIsReturned(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(TokenResponse{AccessToken: "at", ExpiresIn: 60})
	})
	tk, err := RefreshTokens(t.Context(), inMemoryClient(h), "http://ekm.test/connect/token", "cid", "cs", "rt-old")
	if err != nil || tk.RefreshToken != "rt-old" {
		t.Fatalf("tokens = %v, %v", tk, err)
	}
}

func TestTokenEndpointErrorsAreClassified(t *testing.T) {
	cases := []struct {
		status int
		body   string
		kind   Kind
	}{
		{400, `{"error":"invalid_grant"}`, KindNeedsReauth},
		{400, `{"error":"invalid_client"}`, KindInvalidClient},
		{401, ``, KindInvalidClient},
		{400, `{"error":"invalid_scope"}`, KindBadRequest},
		{429, ``, KindRateLimited},
		{502, `<html>`, KindRetryable},
		{200, `{"token_type":"Bearer"}`, KindRetryable},
		{200, `{"access_tok`, KindRetryable},
	}
	for _, tc := range cases {
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(tc.status)
			_, _ = w.Write([]byte(tc.body))
		})
		_, err := RefreshTokens(t.Context(), inMemoryClient(h), "http://ekm.test/connect/token", "cid", "cs", "rt")
		if e := AsError(err); e == nil || e.Kind != tc.kind || e.Path != "/connect/token" {
			t.Errorf("%d %s: err = %v, want %v", tc.status, tc.body, err, tc.kind)
		}
	}
}

// The secrets of the tests below; none may appear in an error or a log line.
const (
	secretClient  = "CLIENT-SECRET-7f3a"
	secretCode    = "AUTH-CODE-91bd"
	secretRefresh = "REFRESH-TOKEN-c0de"
	secretAccess  = "ACCESS-TOKEN-5eed"
)

func TestNoSecretInTokenEndpointErrors(t *testing.T) {
	// Endpoints that echo what they got: in the description, or as the code.
	echoDescription := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		w.WriteHeader(400)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant", "error_description": "bad grant: " + r.PostForm.Encode() + " " +
			strings.Join([]string{r.PostForm.Get("client_secret"), r.PostForm.Get("code"), r.PostForm.Get("refresh_token")}, " ")})
	})
	echoCode := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		w.WriteHeader(400)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": r.PostForm.Get("client_secret")})
	})
	down := &http.Client{Transport: roundTripFunc(func(*http.Request) (*http.Response, error) { return nil, context.DeadlineExceeded })}
	const tokenURL = "http://ekm.test/connect/token"
	_, err1 := ExchangeCode(t.Context(), inMemoryClient(echoDescription), tokenURL, "cid", secretClient, secretCode, "http://cb")
	_, err2 := RefreshTokens(t.Context(), inMemoryClient(echoDescription), tokenURL, "cid", secretClient, secretRefresh)
	_, err3 := RefreshTokens(t.Context(), inMemoryClient(echoCode), tokenURL, "cid", secretClient, secretRefresh)
	_, err4 := RefreshTokens(t.Context(), down, tokenURL, "cid", secretClient, secretRefresh)
	for _, err := range []error{err1, err2, err3, err4} {
		if err == nil {
			t.Fatal("want an error")
		}
		if containsAny(err.Error(), secretClient, secretCode, secretRefresh) {
			t.Errorf("secret in error: %s", err)
		}
	}
	if !IsNeedsReauth(err1) || !IsNeedsReauth(err2) || !strings.Contains(err2.Error(), "[redacted]") {
		t.Errorf("errors %v and %v, want needs-reauth with the description redacted", err1, err2)
	}
}

func TestNoSecretInAPIErrorsOrLogs(t *testing.T) {
	log, logs := debugLogger()
	tokenEP := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(400)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant"})
	})
	store := NewMemoryTokenStore(Tokens{AccessToken: secretAccess, RefreshToken: secretRefresh, Expiry: time.Now().Add(time.Hour)})
	src := NewTokenSource(TokenSourceConfig{
		TokenURL: "http://ekm.test/connect/token", ClientID: "cid", ClientSecret: secretClient,
		Store: store, HTTPClient: inMemoryClient(tokenEP), Logger: log,
	})
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		w.WriteHeader(http.StatusUnauthorized)
	})
	c := New(Config{BaseURL: "http://ekm.test", HTTPClient: inMemoryClient(api), Tokens: src, Logger: log, Budget: NewBudget(1e6, 1e6)})
	_, err := c.GetOrder(t.Context(), 1) // 401, forced refresh, invalid_grant
	if !IsNeedsReauth(err) {
		t.Fatalf("err = %v, want needs-reauth after the forced refresh", err)
	}
	_, err2 := c.Currency(t.Context())
	for _, s := range []string{err.Error(), err2.Error(), logs.String()} {
		if containsAny(s, secretClient, secretRefresh, secretAccess) {
			t.Errorf("secret leaked: %s", s)
		}
	}
	if !strings.Contains(logs.String(), "token refresh failed") {
		t.Errorf("the failure was not logged: %s", logs.String())
	}
}

// roundTripFunc adapts a function to http.RoundTripper.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
