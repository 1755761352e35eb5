package ekmsim

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ekmsync/ekmsync/internal/ekm"
)

// EKM authorizes apps with IdentityServer's OAuth2 authorization-code flow:
// /connect/authorize hands a code to the app's redirect_uri, /connect/token
// exchanges it (and later refresh tokens) for a JWT access token. Refresh
// tokens are single use and slide: each refresh returns a new one that lives
// RefreshTokenTTL from then ([SW] "Refresh Tokens"). This file keeps that state;
// oauthhttp.go serves the two endpoints.

// Scope names the simulator's endpoints require ([SW] securitySchemes).
const (
	ScopeOrdersRead        = "tempest.orders.read"
	ScopeOrdersWrite       = "tempest.orders.write"
	ScopeProductsRead      = "tempest.products.read"
	ScopeProductsWrite     = "tempest.products.write"
	ScopeOrderStatusesRead = "tempest.settings.orderstatuses.read"
	ScopeCurrencyRead      = "tempest.settings.currency.read"
	ScopeOfflineAccess     = "offline_access"
)

// knownScopes are the scopes EKM documents; any other is invalid_scope.
var knownScopes = []string{
	"openid", "profile", ScopeOfflineAccess, ScopeOrdersRead, ScopeOrdersWrite,
	"tempest.orders.customers.notes.read", "tempest.orders.customers.notes.write",
	ScopeProductsRead, ScopeProductsWrite, "tempest.categories.read", "tempest.categories.write",
	"tempest.customers.read", "tempest.customers.write", "tempest.Guests.read", "tempest.Guests.write",
	ScopeOrderStatusesRead, "tempest.settings.domains.read", "tempest.settings.accountdetails.read",
	"tempest.settings.tax.read", "tempest.settings.tax.write", ScopeCurrencyRead,
	"tempest.cartsessions.read", "tempest.cartsessions.write", "tempest.cart.read", "tempest.cart.write",
	"tempest.internal.orders.read",
}

// IssuedScopes are the scopes IssueTokens grants: everything ekmsync uses.
var IssuedScopes = []string{
	"openid", ScopeOfflineAccess, ScopeOrdersRead, ScopeOrdersWrite, ScopeProductsRead,
	ScopeProductsWrite, ScopeOrderStatusesRead, ScopeCurrencyRead, "tempest.settings.domains.read",
}

// oauthError is an RFC 6749 error code answered by the token endpoint.
type oauthError string

// Error implements error.
func (e oauthError) Error() string { return string(e) }

// The token-endpoint error codes the simulator uses.
const (
	errInvalidGrant         oauthError = "invalid_grant"
	errInvalidClient        oauthError = "invalid_client"
	errInvalidRequest       oauthError = "invalid_request"
	errInvalidScope         oauthError = "invalid_scope"
	errUnsupportedGrantType oauthError = "unsupported_grant_type"
)

// authority holds the OAuth state: the one registered client, consents,
// outstanding codes and refresh tokens.
type authority struct {
	mu           sync.Mutex
	key          []byte // signs access tokens
	clientID     string
	clientSecret string
	shop         string
	accessTTL    time.Duration
	refreshTTL   time.Duration
	now          func() time.Time
	codes        map[string]*authCode
	refreshes    map[string]*refreshGrant
	consents     map[string]string // client id -> consent id; tokens of a revoked consent die
}

type authCode struct {
	clientID, redirectURI, consentID string
	scopes                           []string
	expires                          time.Time
}

type refreshGrant struct {
	clientID, consentID string
	scopes              []string // granted at consent; a refresh may narrow them
	expires             time.Time
	used                bool
}

// claims are the access token's JWT claims, in IdentityServer's names.
type claims struct {
	Issuer    string   `json:"iss"`
	Audience  string   `json:"aud"`
	Subject   string   `json:"sub"`
	ClientID  string   `json:"client_id"`
	Scope     []string `json:"scope"`
	IssuedAt  int64    `json:"iat"`
	NotBefore int64    `json:"nbf"`
	Expires   int64    `json:"exp"`
	SessionID string   `json:"sid"`
	ID        string   `json:"jti"`
}

// has reports whether the token carries the scope.
func (c *claims) has(scope string) bool { return slices.Contains(c.Scope, scope) }

func newAuthority(o Options) *authority {
	return &authority{
		key:          []byte(randomToken()),
		clientID:     o.ClientID,
		clientSecret: o.ClientSecret,
		shop:         o.ShopUsername,
		accessTTL:    o.AccessTokenTTL,
		refreshTTL:   o.RefreshTokenTTL,
		now:          o.Now,
		codes:        map[string]*authCode{},
		refreshes:    map[string]*refreshGrant{},
		consents:     map[string]string{},
	}
}

// randomToken returns an unguessable URL-safe string for codes, refresh
// tokens and ids. It uses crypto/rand, not the seed: tokens must not repeat
// across runs.
func randomToken() string { return rand.Text() }

// clientOK checks the client's credentials in constant time.
func (a *authority) clientOK(id, secret string) bool {
	return subtle.ConstantTimeCompare([]byte(id), []byte(a.clientID)) == 1 &&
		subtle.ConstantTimeCompare([]byte(secret), []byte(a.clientSecret)) == 1
}

// validScopes reports whether every scope is one EKM knows.
func validScopes(scopes []string) bool {
	if len(scopes) == 0 {
		return false
	}
	for _, s := range scopes {
		if !slices.Contains(knownScopes, s) {
			return false
		}
	}
	return true
}

// consent records the merchant's approval of the client and returns its id;
// approving again keeps the existing consent (and the tokens issued under it).
func (a *authority) consent(clientID string) string {
	id, ok := a.consents[clientID]
	if !ok {
		id = randomToken()
		a.consents[clientID] = id
	}
	return id
}

// issueCode approves a request and returns a single-use authorization code.
func (a *authority) issueCode(clientID, redirectURI string, scopes []string) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	code := randomToken()
	a.codes[code] = &authCode{
		clientID: clientID, redirectURI: redirectURI, scopes: scopes,
		consentID: a.consent(clientID), expires: a.now().Add(codeLifetime),
	}
	return code
}

// exchangeCode trades a code for tokens. The code is consumed by any attempt.
func (a *authority) exchangeCode(clientID, code, redirectURI string) (ekm.TokenResponse, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	c, ok := a.codes[code]
	if !ok {
		return ekm.TokenResponse{}, errInvalidGrant
	}
	delete(a.codes, code)
	if c.clientID != clientID || c.redirectURI != redirectURI || !a.now().Before(c.expires) ||
		a.consents[clientID] != c.consentID {
		return ekm.TokenResponse{}, errInvalidGrant
	}
	return a.tokens(clientID, c.consentID, c.scopes, c.scopes), nil
}

// refresh trades a refresh token for new tokens; the old one is spent.
// requested, if not empty, narrows the access token's scopes.
func (a *authority) refresh(clientID, token string, requested []string) (ekm.TokenResponse, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	g, ok := a.refreshes[token]
	if ok && g.used && reuseRevokesFamily {
		delete(a.consents, g.clientID)
	}
	if !ok || g.used || g.clientID != clientID || !a.now().Before(g.expires) ||
		a.consents[clientID] != g.consentID {
		return ekm.TokenResponse{}, errInvalidGrant
	}
	scopes := g.scopes
	if len(requested) > 0 {
		for _, s := range requested {
			if !slices.Contains(g.scopes, s) {
				return ekm.TokenResponse{}, errInvalidScope
			}
		}
		scopes = requested
	}
	g.used = true
	return a.tokens(clientID, g.consentID, g.scopes, scopes), nil
}

// tokens mints an access token with scopes and, when the consent includes
// offline_access, a new refresh token carrying the consented scopes. The
// caller holds a.mu.
func (a *authority) tokens(clientID, consentID string, consented, scopes []string) ekm.TokenResponse {
	now := a.now()
	a.pruneRefreshes(now)
	resp := ekm.TokenResponse{
		AccessToken: a.sign(claims{
			Issuer: "ekmsim", Audience: "tempest", Subject: a.shop, ClientID: clientID, Scope: scopes,
			IssuedAt: now.Unix(), NotBefore: now.Unix(), Expires: now.Add(a.accessTTL).Unix(),
			SessionID: consentID, ID: randomToken(),
		}),
		ExpiresIn: int64(a.accessTTL / time.Second),
		TokenType: "Bearer",
		Scope:     strings.Join(scopes, " "),
	}
	if slices.Contains(consented, ScopeOfflineAccess) {
		resp.RefreshToken = randomToken()
		a.refreshes[resp.RefreshToken] = &refreshGrant{
			clientID: clientID, consentID: consentID, scopes: consented, expires: now.Add(a.refreshTTL),
		}
	}
	return resp
}

// pruneRefreshes forgets refresh tokens that have expired, so a long-running
// dev shop does not grow without bound. Spent but unexpired tokens are kept:
// presenting one must still say invalid_grant.
func (a *authority) pruneRefreshes(now time.Time) {
	for t, g := range a.refreshes {
		if !now.Before(g.expires) {
			delete(a.refreshes, t)
		}
	}
}

// revokeAll withdraws every consent on the shop: all refresh tokens fail with
// invalid_grant and all access tokens with 401 from now on.
func (a *authority) revokeAll() {
	a.mu.Lock()
	defer a.mu.Unlock()
	clear(a.consents)
	clear(a.refreshes)
	clear(a.codes)
}

// issueDirect consents for the registered client and mints tokens with the
// given scopes, skipping the browser flow.
func (a *authority) issueDirect(scopes []string) ekm.TokenResponse {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.tokens(a.clientID, a.consent(a.clientID), scopes, scopes)
}

// jwtHeader is the fixed header of every access token: HMAC-SHA256.
var jwtHeader = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))

// sign encodes claims as a signed JWT.
func (a *authority) sign(c claims) string {
	payload, err := json.Marshal(c)
	if err != nil {
		panic(fmt.Sprintf("ekmsim: marshalling claims: %v", err)) // claims are plain data
	}
	unsigned := jwtHeader + "." + base64.RawURLEncoding.EncodeToString(payload)
	return unsigned + "." + a.mac(unsigned)
}

func (a *authority) mac(s string) string {
	m := hmac.New(sha256.New, a.key)
	m.Write([]byte(s))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Reasons a bearer token is refused.
var (
	errNoToken      = errors.New("no bearer token")
	errBadToken     = errors.New("invalid bearer token")
	errExpiredToken = errors.New("expired bearer token")
)

// verify checks a bearer token's signature, expiry and consent.
func (a *authority) verify(token string) (*claims, error) {
	if token == "" {
		return nil, errNoToken
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 || parts[0] != jwtHeader {
		return nil, errBadToken
	}
	if !hmac.Equal([]byte(a.mac(parts[0]+"."+parts[1])), []byte(parts[2])) {
		return nil, errBadToken
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errBadToken, err)
	}
	var c claims
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, fmt.Errorf("%w: %w", errBadToken, err)
	}
	if !a.now().Before(time.Unix(c.Expires, 0)) {
		return nil, errExpiredToken
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.consents[c.ClientID] != c.SessionID {
		return nil, errBadToken
	}
	return &c, nil
}
