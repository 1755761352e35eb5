// Package shop connects a channel to its EKM shop: it builds the channel's EKM client
// from the hub's settings and sealed credentials, with the process-wide rate budget,
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

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/ekm"
	"github.com/ekmsync/ekmsync/internal/secret"
	"github.com/ekmsync/ekmsync/internal/store"
)

// ErrDisabled is returned instead of calling EKM for a disabled channel.
var ErrDisabled = errors.New("channel is disabled: nothing is sent to or fetched from EKM")

// ErrNeedsReauth is returned instead of calling EKM for a channel whose consent EKM
// has rejected, until the operator reauthorises it.
var ErrNeedsReauth = errors.New("channel needs reauthorisation: run 'starter channel reauthorise'")

// Connector builds and caches the EKM clients of channels. It is safe for concurrent
// use; one per process, so that every activity of a channel shares its budget.
type Connector struct {
	// Store holds the channels and their sealed credentials.
	Store *store.Store
	// Key opens the credentials.
	Key *secret.Key
	// HTTP sends the requests to EKM.
	HTTP *http.Client
	// Budgets are the process-wide rate budgets, one per channel; nil: made on first use.
	Budgets *ekm.Budgets
	// Logger receives the clients' and token sources' logs (never a secret); nil discards.
	Logger *slog.Logger
	// IgnoreGate lets the starter's 'channel test' and 'channel add' call EKM for a
	// disabled channel; the worker never sets it.
	IgnoreGate bool

	mu      sync.Mutex
	clients map[int64]*entry
}

type entry struct {
	fingerprint string
	client      *ekm.Client
}

// Client returns the EKM client of the channel s, built afresh when its connection
// settings changed.
func (c *Connector) Client(ctx context.Context, s channel.Settings) (*ekm.Client, error) {
	secretValue, err := c.Store.ClientSecret(ctx, c.Key, s.ID)
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
	tokens := ekm.NewTokenSource(ekm.TokenSourceConfig{
		TokenURL:      ekm.TokenURL(s.APIBaseURL),
		ClientID:      s.ClientID,
		ClientSecret:  secretValue,
		Store:         c.Store.Tokens(c.Key, s.ID),
		HTTPClient:    c.HTTP,
		Logger:        c.logger().With("channel", s.Name),
		OnNeedsReauth: func(ctx context.Context, cause error) { c.needsReauth(ctx, s, cause) },
	})
	budgets := c.Budgets
	if budgets == nil {
		budgets = ekm.NewBudgets(ekm.DefaultBucketSize, ekm.DefaultLeakPerSecond)
		c.Budgets = budgets
	}
	cfg := ekm.Config{
		BaseURL:    s.APIBaseURL,
		HTTPClient: c.HTTP,
		Tokens:     tokens,
		Budget:     budgets.For(s.Name),
		Logger:     c.logger().With("channel", s.Name),
	}
	if !c.IgnoreGate {
		cfg.BeforeRequest = (&gate{store: c.Store, channelID: s.ID}).check
		cfg.OnForbidden = func(ctx context.Context, e *ekm.Error) { c.needsReauth(ctx, s, e) }
	}
	e := &entry{fingerprint: fp, client: ekm.New(cfg)}
	c.clients[s.ID] = e
	return e.client, nil
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
	case auth != channel.AuthOK:
		return ErrNeedsReauth
	}
	return nil
}
