package shop

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/ekm"
)

// AuthorizeOptions configure the OAuth authorization-code flow of Authorize.
type AuthorizeOptions struct {
	// CallbackAddr is the local address that receives EKM's redirect; the path is
	// the channel's redirect URL's.
	CallbackAddr string
	// Headless makes Authorize open the authorize URL itself instead of waiting
	// for a browser: for the simulator's auto-approve mode (tests, make dev).
	Headless bool
	// Timeout bounds the wait for the callback (default 10 minutes).
	Timeout time.Duration
	// ShowURL is called with the authorize URL for the operator to open.
	ShowURL func(string)
}

// Authorization is what a successful Authorize got.
type Authorization struct {
	ShopUsername string    `json:"shop_username"`
	Expiry       time.Time `json:"access_token_expiry"`
}

// Authorize runs EKM's authorization-code flow for the channel: it shows the
// authorize URL (with the product's scopes and a random state), receives the
// callback on a local port, checks the state, exchanges the code and stores the
// tokens sealed, marking the channel's consent ok.
func (c *Connector) Authorize(ctx context.Context, s channel.Settings, opts AuthorizeOptions) (Authorization, error) {
	redirect, err := url.Parse(s.RedirectURL)
	if err != nil {
		return Authorization{}, fmt.Errorf("redirect URL %q: %w", s.RedirectURL, err)
	}
	if opts.Timeout == 0 {
		opts.Timeout = 10 * time.Minute
	}
	// Checked before the operator is sent to approve: the secret goes to the token
	// endpoint of s.APIBaseURL only if the credentials are bound to it.
	secretValue, err := c.clientSecret(ctx, s)
	if err != nil {
		return Authorization{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()

	state := ekm.NewState()
	authorizeURL := ekm.AuthorizeURL(s.APIBaseURL, s.ClientID, s.RedirectURL, state, ekm.DefaultScopes)
	ln, err := net.Listen("tcp", opts.CallbackAddr)
	if err != nil {
		return Authorization{}, fmt.Errorf("listen for EKM's callback on %s (EKMSYNC_CALLBACK_ADDR): %w", opts.CallbackAddr, err)
	}
	codes := make(chan string, 1)
	failures := make(chan error, 1)
	path := redirect.Path
	if path == "" {
		path = "/"
	}
	mux := http.NewServeMux()
	mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		switch {
		case q.Get("state") != state:
			// Not our request (or a forged one): refuse it, keep waiting.
			http.Error(w, "state does not match: this is not the authorisation ekmsync started", http.StatusBadRequest)
			return
		case q.Get("error") != "":
			fmt.Fprintf(w, "EKM refused the authorisation: %s", html.EscapeString(q.Get("error")))
			select {
			case failures <- fmt.Errorf("EKM refused the authorisation: %s", q.Get("error")):
			default:
			}
			return
		case q.Get("code") == "":
			http.Error(w, "no code in the callback", http.StatusBadRequest)
			return
		}
		fmt.Fprintln(w, "ekmsync: authorised. You can close this window.")
		select {
		case codes <- q.Get("code"):
		default:
		}
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	if opts.ShowURL != nil {
		opts.ShowURL(authorizeURL)
	}
	if opts.Headless {
		go c.openHeadless(ctx, authorizeURL, failures)
	}
	var code string
	select {
	case code = <-codes:
	case err := <-failures:
		return Authorization{}, err
	case <-ctx.Done():
		return Authorization{}, fmt.Errorf("no callback from EKM within %s: open the URL above in a browser logged in to the shop, and check that the app's Return URL is %s", opts.Timeout, s.RedirectURL)
	}
	tokens, err := ekm.ExchangeCode(ctx, boundHTTP(c.HTTP), ekm.TokenURL(s.APIBaseURL), s.ClientID, secretValue, code, s.RedirectURL)
	if err != nil {
		return Authorization{}, fmt.Errorf("exchange the authorisation code: %w", err)
	}
	if err := c.Store.SaveTokens(ctx, c.Key, s.ID, tokens); err != nil {
		return Authorization{}, err
	}
	username := JWTSubject(tokens.AccessToken)
	if username != "" {
		if err := c.Store.SetShopUsername(ctx, s.ID, username); err != nil {
			return Authorization{}, err
		}
	}
	c.forget(s.ID)
	return Authorization{ShopUsername: username, Expiry: tokens.Expiry}, nil
}

// openHeadless requests the authorize URL and follows the redirects, which in
// auto-approve mode end at our own callback.
func (c *Connector) openHeadless(ctx context.Context, authorizeURL string, failures chan<- error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authorizeURL, nil)
	if err == nil {
		var resp *http.Response
		hc := c.HTTP
		if hc == nil {
			hc = http.DefaultClient
		}
		resp, err = hc.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode >= 400 {
				err = fmt.Errorf("EKM's authorisation page answered %s (is the EKM app set to auto-approve?)", resp.Status)
			}
		}
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		select {
		case failures <- fmt.Errorf("open the authorisation URL headless: %w", err):
		default:
		}
	}
}

// forget drops the cached client of a channel, so the next one reads the new tokens.
func (c *Connector) forget(id int64) {
	c.mu.Lock()
	delete(c.clients, id)
	c.mu.Unlock()
}

// JWTSubject returns the sub claim of a JWT without verifying it (EKM's access
// token's sub is the merchant username, which routes webhooks); "" if unreadable.
func JWTSubject(token string) string {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return ""
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var claims struct {
		Sub string `json:"sub"`
	}
	if json.Unmarshal(payload, &claims) != nil {
		return ""
	}
	return claims.Sub
}
