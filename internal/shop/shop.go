// Package shop connects a channel to its EKM shop: it builds the channel's EKM client
// from the hub's settings and sealed credentials, with the rate budget it shares
// through PostgreSQL with every process that serves the channel,
// a token source that refreshes under a PostgreSQL row lock, and a gate that stops
// every call of the channel as soon as it is disabled or loses its consent.
package shop

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/ekm"
	"github.com/ekmsync/ekmsync/internal/secret"
	"github.com/ekmsync/ekmsync/internal/store"
)

// ErrDisabled is returned instead of calling EKM for a disabled channel.
var ErrDisabled = errors.New("channel is disabled: nothing is sent to or fetched from EKM")

// ErrShadow is returned instead of writing to the shop's orders or products for a
// channel in shadow mode: its push records what it would send instead.
var ErrShadow = errors.New("channel is in shadow mode: nothing is written to EKM ('starter push plan' shows what would be)")

// ErrNeedsReauth is returned instead of calling EKM for a channel whose consent EKM
// has rejected, until the operator reauthorises it.
var ErrNeedsReauth = errors.New("channel needs reauthorisation: run 'starter channel reauthorise'")

// ErrRefused is returned instead of calling EKM when the channel's credentials may
// not be sent where its row points (api_base_url changed outside the CLI). It is
// also an ErrNeedsReauth: every flow stops and waits for the operator.
var ErrRefused = errors.New("credentials refused")

// refusedError is a refusal with its reason; it matches ErrRefused and ErrNeedsReauth.
type refusedError struct{ reason string }

func (e *refusedError) Error() string { return e.reason }

func (e *refusedError) Is(target error) bool { return target == ErrRefused || target == ErrNeedsReauth }

// Connector builds and caches the EKM clients of channels. It is safe for concurrent
// use; one per process, so that every activity of a channel shares its budget.
type Connector struct {
	// Store holds the channels and their sealed credentials.
	Store *store.Store
	// Key opens the credentials.
	Key *secret.Key
	// HTTP sends the requests to EKM.
	HTTP *http.Client
	// Budgets are the rate budgets, one per channel; nil: on first use, budgets
	// shared through Store with every other process that serves the channel
	// (Store.RateBudgets), so that all of them together stay inside the shop's
	// bucket.
	Budgets *ekm.Budgets
	// Logger receives the clients' and token sources' logs (never a secret); nil discards.
	Logger *slog.Logger
	// IgnoreGate lets the starter's 'channel test' and 'channel add' call EKM for a
	// disabled channel; the worker never sets it.
	IgnoreGate bool
	// Observer, if set, sees each channel's EKM traffic (the worker's metrics).
	Observer Observer

	mu      sync.Mutex
	clients map[int64]*entry
}

// Observer sees a channel's EKM traffic: it may wrap the HTTP transport of the
// channel's client (and token source), and is told each request's wait for budget.
type Observer interface {
	Transport(channel string, next http.RoundTripper) http.RoundTripper
	BudgetWait(channel string, p ekm.Priority, waited time.Duration)
}

type entry struct {
	fingerprint string
	client      *ekm.Client
	tokens      ekm.TokenSource // the client's, for the keep-alive
}

// Client returns the EKM client of the channel s, built afresh when its connection
// settings changed.
func (c *Connector) Client(ctx context.Context, s channel.Settings) (*ekm.Client, error) {
	secretValue, err := c.clientSecret(ctx, s)
	if err != nil {
		return nil, err
	}
	fp := s.APIBaseURL + "\x00" + s.ClientID + "\x00" + secretValue
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.clients == nil {
		c.clients = map[int64]*entry{}
	}
	if e, ok := c.clients[s.ID]; ok && e.fingerprint == fp {
		return e.client, nil
	}
	hc := boundHTTP(c.HTTP)
	if c.Observer != nil {
		hc.Transport = c.Observer.Transport(s.Name, hc.Transport)
	}
	tokens := ekm.NewTokenSource(ekm.TokenSourceConfig{
		TokenURL:      ekm.TokenURL(s.APIBaseURL),
		ClientID:      s.ClientID,
		ClientSecret:  secretValue,
		Store:         c.Store.TokensFor(c.Key, s.ID, s.APIBaseURL),
		HTTPClient:    hc,
		Logger:        c.logger().With("channel", s.Name),
		OnNeedsReauth: func(ctx context.Context, cause error) { c.needsReauth(ctx, s, cause) },
	})
	budgets := c.Budgets
	if budgets == nil {
		budgets = c.Store.RateBudgets()
		c.Budgets = budgets
	}
	cfg := ekm.Config{
		BaseURL:    s.APIBaseURL,
		HTTPClient: hc,
		Tokens:     tokens,
		Budget:     budgets.For(s.Name),
		Logger:     c.logger().With("channel", s.Name),
	}
	if c.Observer != nil {
		obs, name := c.Observer, s.Name
		cfg.OnBudgetWait = func(p ekm.Priority, waited time.Duration) { obs.BudgetWait(name, p, waited) }
	}
	if !c.IgnoreGate {
		cfg.BeforeRequest = (&gate{store: c.Store, channelID: s.ID}).check
		cfg.OnForbidden = func(ctx context.Context, e *ekm.Error) { c.needsReauth(ctx, s, e) }
	}
	e := &entry{fingerprint: fp, client: ekm.New(cfg), tokens: tokens}
	c.clients[s.ID] = e
	return e.client, nil
}

// RefreshTokens renews the channel's tokens at EKM now, whatever the access token's
// expiry, through the channel's token source (so under the credentials' row lock),
// unless they were renewed since lastUsed (the refreshed_at the caller read), by
// this or another worker: then it reports false and sends nothing. The tokens are
// read before refreshed_at is checked, and the refresh happens only while the
// stored access token is still the one read, so no interleaving of two workers
// renews one channel twice. The gate does not apply: a refresh reads and writes
// no shop data.
func (c *Connector) RefreshTokens(ctx context.Context, s channel.Settings, lastUsed time.Time) (bool, error) {
	if _, err := c.Client(ctx, s); err != nil {
		return false, err
	}
	c.mu.Lock()
	e := c.clients[s.ID]
	c.mu.Unlock()
	cur, err := c.Store.TokensFor(c.Key, s.ID, s.APIBaseURL).Load(ctx)
	if err != nil {
		return false, err
	}
	life, err := c.Store.TokenLife(ctx, s.ID)
	if err != nil {
		return false, err
	}
	if life.LastUsed == nil || !life.LastUsed.Equal(lastUsed) {
		return false, nil
	}
	_, err = e.tokens.ForceRefresh(ctx, cur.AccessToken)
	return err == nil, err
}

// clientSecret returns the channel's client secret when its credentials may go to
// s.APIBaseURL. Credentials sealed before binding existed are bound at first use
// (store.BindLegacy); a refusal marks the channel, so that every flow waits and
// 'channel show' says why and what to run.
func (c *Connector) clientSecret(ctx context.Context, s channel.Settings) (string, error) {
	v, err := c.Store.ClientSecretFor(ctx, c.Key, s.ID, s.APIBaseURL)
	if errors.Is(err, store.ErrUnbound) {
		if err = c.Store.BindLegacy(ctx, c.Key, s.ID); err == nil {
			c.logger().Info("bound the channel's credentials to its API URL at first use", "channel", s.Name, "api_base_url", s.APIBaseURL)
			v, err = c.Store.ClientSecretFor(ctx, c.Key, s.ID, s.APIBaseURL)
		}
	}
	var refused *store.RefusedError
	if errors.As(err, &refused) {
		c.refuse(ctx, s, refused.Reason)
		return "", &refusedError{reason: refused.Reason}
	}
	return v, err
}

// refuse marks the channel: its credentials will not be sent where its row points.
func (c *Connector) refuse(ctx context.Context, s channel.Settings, reason string) {
	ctx = context.WithoutCancel(ctx)
	c.logger().Error("refused to send the channel's credentials", "channel", s.Name, "reason", reason)
	if err := c.Store.SetAuthState(ctx, s.ID, channel.AuthRefused, reason); err != nil {
		c.logger().Error("could not record the refusal", "channel", s.Name, "err", err)
	}
	_ = c.Store.RecordError(ctx, s.ID, "auth", reason)
	c.forget(s.ID)
}

// boundHTTP is hc (or a default client) that follows no redirect to another
// origin: a token request re-sent by a 307 would carry the client secret, and a
// bearer token may go only where the credentials are bound.
func boundHTTP(hc *http.Client) *http.Client {
	out := &http.Client{Timeout: 60 * time.Second}
	if hc != nil {
		copied := *hc
		out = &copied
	}
	next := out.CheckRedirect
	out.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) > 0 && (req.URL.Scheme != via[0].URL.Scheme || req.URL.Host != via[0].URL.Host) {
			return fmt.Errorf("refused a redirect from %s to another host (%s): credentials go only to the channel's API", via[0].URL.Host, req.URL.Host)
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	return out
}

// needsReauth records at once that the channel must be authorised again (EKM
// rejected its refresh token, or answered 403), so that every flow of the channel
// stops calling EKM and 'channel show' says why.
func (c *Connector) needsReauth(ctx context.Context, s channel.Settings, cause error) {
	ctx = context.WithoutCancel(ctx)
	if err := c.Store.SetAuthState(ctx, s.ID, channel.AuthNeedsReauth, cause.Error()); err != nil {
		c.logger().Error("could not record that the channel needs reauthorisation", "channel", s.Name, "err", err)
	}
	_ = c.Store.RecordError(ctx, s.ID, "auth", cause.Error())
}

func (c *Connector) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Logger
}

// gate answers, before each request, whether the channel may call EKM now. It reads
// the channel's state afresh every time (one primary-key read, nothing beside
// EKM's 2 requests a second), so that a disable stops the very next call.
type gate struct {
	store     *store.Store
	channelID int64
}

func (g *gate) check(ctx context.Context) error {
	enabled, auth, err := g.store.ChannelGate(ctx, g.channelID)
	if err != nil {
		return fmt.Errorf("read channel state: %w", err)
	}
	switch {
	case !enabled:
		return ErrDisabled
	case auth == channel.AuthRefused:
		return &refusedError{reason: "credentials refused: the channel's API URL was changed outside the CLI (see 'starter channel show')"}
	case auth != channel.AuthOK:
		return ErrNeedsReauth
	}
	if !ekm.WritesShop(ctx) {
		return nil
	}
	// A channel switched to shadow mode while a push pass was sending sends no
	// more: the pass's next attempt records the rest as planned.
	shadow, err := g.store.ChannelShadow(ctx, g.channelID)
	if err != nil {
		return fmt.Errorf("read channel mode: %w", err)
	}
	if shadow {
		return ErrShadow
	}
	return nil
}
