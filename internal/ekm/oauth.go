package ekm

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultBaseURL is EKM's API host; the OAuth endpoints live on it too.
const DefaultBaseURL = "https://api.ekm.net"

// DefaultScopes are the scopes ekmsync asks the merchant for: orders and products
// read/write, the order-status and currency settings, and offline_access, without
// which EKM issues no refresh token. openid is left out: the merchant username is
// the access token's sub claim either way, and every extra scope must also be
// ticked in the app's "Required Permissions".
var DefaultScopes = []string{
	"tempest.orders.read",
	"tempest.orders.write",
	"tempest.products.read",
	"tempest.products.write",
	"tempest.settings.orderstatuses.read",
	"tempest.settings.currency.read",
	"offline_access",
}

// defaultTokenLifetime is used when the token endpoint omits expires_in: EKM's
// access tokens last one hour (docs/ekm-api.md §2).
const defaultTokenLifetime = time.Hour

// maxTokenBody bounds a token endpoint response; a real one is about 2 KiB.
const maxTokenBody = 64 << 10

// TokenURL returns the token endpoint of the EKM instance at base.
func TokenURL(base string) string {
	return strings.TrimRight(base, "/") + "/connect/token"
}

// AuthorizeURL returns the URL to send the merchant to for consent. base is the
// EKM base URL (e.g. DefaultBaseURL); scopes are joined with spaces as EKM's
// documentation says (not commas), and prompt=login makes EKM ask for the
// merchant's login even when a session exists, so the right shop is chosen.
func AuthorizeURL(base, clientID, redirectURI, state string, scopes []string) string {
	q := url.Values{
		"client_id":     {clientID},
		"redirect_uri":  {redirectURI},
		"response_type": {"code"},
		"scope":         {strings.Join(scopes, " ")},
		"state":         {state},
		"prompt":        {"login"},
	}
	return strings.TrimRight(base, "/") + "/connect/authorize?" + q.Encode()
}

// NewState returns an unguessable value for the authorize request's state
// parameter, which the callback must echo back.
func NewState() string { return rand.Text() }

// ExchangeCode trades the authorisation code from the callback for tokens.
// redirectURI must equal the one sent to AuthorizeURL.
func ExchangeCode(ctx context.Context, hc *http.Client, tokenURL, clientID, clientSecret, code, redirectURI string) (Tokens, error) {
	form := url.Values{
		"grant_type":    {"authorization_code"},
		"client_id":     {clientID},
		"client_secret": {clientSecret},
		"code":          {code},
		"redirect_uri":  {redirectURI},
	}
	return postToken(ctx, hc, tokenURL, form, "", time.Now())
}

// RefreshTokens redeems refreshToken for a new access token and a new refresh
// token. EKM's refresh tokens are single use: the caller must store the returned
// refresh token before anything else, since the old one is now spent. The scope
// parameter is omitted, as in EKM's own demo, so the original consent applies.
func RefreshTokens(ctx context.Context, hc *http.Client, tokenURL, clientID, clientSecret, refreshToken string) (Tokens, error) {
	return refreshTokensAt(ctx, hc, tokenURL, clientID, clientSecret, refreshToken, time.Now())
}

// refreshTokensAt is RefreshTokens with the clock of the caller, so that a token
// source with an injected clock computes expiries on that clock.
func refreshTokensAt(ctx context.Context, hc *http.Client, tokenURL, clientID, clientSecret, refreshToken string, now time.Time) (Tokens, error) {
	form := url.Values{
		"grant_type":    {"refresh_token"},
		"client_id":     {clientID},
		"client_secret": {clientSecret},
		"refresh_token": {refreshToken},
	}
	return postToken(ctx, hc, tokenURL, form, refreshToken, now)
}

// oauthError is the token endpoint's error body (RFC 6749 §5.2).
type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// postToken posts a grant to the token endpoint and classifies the answer. Every
// value of form is a potential secret, so none is ever put into an error.
// fallbackRefresh is kept when a refresh response carries no new refresh token
// (RFC 6749 §6 lets the server keep the old one valid).
func postToken(ctx context.Context, hc *http.Client, tokenURL string, form url.Values, fallbackRefresh string, now time.Time) (Tokens, error) {
	if hc == nil {
		hc = http.DefaultClient
	}
	fail := &Error{Method: http.MethodPost, Path: pathOnly(tokenURL)}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		fail.Kind, fail.Err = KindBadRequest, errors.New("invalid token URL")
		return Tokens{}, fail
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return Tokens{}, ctx.Err()
		}
		fail.Kind, fail.Err = KindRetryable, transportCause(err)
		return Tokens{}, fail
	}
	defer resp.Body.Close()
	fail.Status = resp.StatusCode
	body, err := readBounded(resp.Body, maxTokenBody)
	if err != nil {
		fail.Kind, fail.Err = KindRetryable, err
		return Tokens{}, fail
	}
	if resp.StatusCode/100 == 2 {
		var tr TokenResponse
		if err := json.Unmarshal(body, &tr); err != nil || tr.AccessToken == "" {
			fail.Kind, fail.Err = KindRetryable, errors.New("token response without an access_token")
			return Tokens{}, fail
		}
		return tokensFrom(tr, fallbackRefresh, now), nil
	}
	var oe oauthError
	_ = json.Unmarshal(body, &oe) // an unparseable error body leaves the status to speak
	fail.Kind = tokenErrorKind(resp.StatusCode, oe.Error)
	fail.OAuthError = sanitizeCode(redact(oe.Error, form))
	if desc := redact(oe.Description, form); desc != "" {
		fail.Messages = []ValidationError{{ErrorMessage: desc}}
	}
	if fail.Kind == KindRateLimited {
		fail.RetryAfter = retryAfter(resp.Header, now)
	}
	return Tokens{}, fail
}

// tokenErrorKind classifies a token endpoint failure. ASSUMED (docs/ekm-api.md §2):
// EKM answers like IdentityServer, 400 {"error":"invalid_grant"} for a used,
// expired or revoked refresh token or code, and invalid_client for a bad secret.
func tokenErrorKind(status int, code string) Kind {
	switch code {
	case "invalid_grant":
		return KindNeedsReauth
	case "invalid_client", "unauthorized_client":
		return KindInvalidClient
	}
	switch {
	case status == http.StatusUnauthorized:
		// RFC 6749 §5.2: a failed client authentication may be a bare 401.
		return KindInvalidClient
	case status == http.StatusTooManyRequests:
		return KindRateLimited
	case status >= 500 || status == http.StatusRequestTimeout:
		return KindRetryable
	default:
		return KindBadRequest
	}
}

// tokensFrom converts a token response, computing the absolute expiry.
func tokensFrom(tr TokenResponse, fallbackRefresh string, now time.Time) Tokens {
	lifetime := time.Duration(tr.ExpiresIn) * time.Second
	if lifetime <= 0 {
		lifetime = defaultTokenLifetime
	}
	t := Tokens{AccessToken: tr.AccessToken, RefreshToken: tr.RefreshToken, Expiry: now.Add(lifetime)}
	if t.RefreshToken == "" {
		t.RefreshToken = fallbackRefresh
	}
	return t
}

// sanitizeCode keeps an OAuth error code only if it looks like one (RFC 6749
// limits it to printable ASCII without quotes or backslash); anything else could be
// an echo of the request and is dropped.
func sanitizeCode(code string) string {
	if len(code) > 64 {
		return "invalid_error_code"
	}
	for _, r := range code {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' || r == ' ' {
			return "invalid_error_code"
		}
	}
	return code
}

// secretFields are the form fields whose values must never appear in an error.
var secretFields = []string{"client_secret", "code", "refresh_token"}

// redact removes the secrets of form (client secret, code, refresh token) from
// s, in case the server echoes one in its error, and bounds its length.
func redact(s string, form url.Values) string {
	for _, field := range secretFields {
		if v := form.Get(field); v != "" {
			s = strings.ReplaceAll(s, v, "[redacted]")
		}
	}
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// pathOnly returns the path of a URL without its query string or host, which is
// all an error or a log line may show of it.
func pathOnly(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.EscapedPath()
}

// transportCause strips the URL from a transport error: *url.Error repeats the
// full URL, and only the path may appear in our errors.
func transportCause(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

// readBounded reads all of r, failing with ErrBodyTooLarge instead of cutting
// the body silently when it is longer than limit.
func readBounded(r io.Reader, limit int64) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading body: %w", err)
	}
	if int64(len(body)) > limit {
		return nil, fmt.Errorf("%w (%d bytes)", ErrBodyTooLarge, limit)
	}
	return body, nil
}
