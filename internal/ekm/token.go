package ekm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// RefreshTokenLifetime is how long EKM's refresh token lives unused: it lapses
// this long after its last use (each use returns a new one), and then only a new
// authorisation brings the channel back (docs/ekm-api.md §2, "Refresh tokens").
const RefreshTokenLifetime = 15 * 24 * time.Hour

// Tokens are one channel's OAuth tokens. Printing or logging them shows only
// whether each is set and the expiry, never the values.
type Tokens struct {
	AccessToken  string
	RefreshToken string
	// Expiry is when AccessToken stops being accepted.
	Expiry time.Time
}

// String describes the tokens without revealing them.
func (t Tokens) String() string {
	return fmt.Sprintf("ekm.Tokens{access:%s refresh:%s expiry:%s}",
		setOrEmpty(t.AccessToken), setOrEmpty(t.RefreshToken), t.Expiry.Format(time.RFC3339))
}

// GoString keeps %#v from printing the token values.
func (t Tokens) GoString() string { return t.String() }

// LogValue keeps slog from printing the token values.
func (t Tokens) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("access", setOrEmpty(t.AccessToken)),
		slog.String("refresh", setOrEmpty(t.RefreshToken)),
		slog.Time("expiry", t.Expiry),
	)
}

// setOrEmpty says whether a secret is present without showing it.
func setOrEmpty(s string) string {
	if s == "" {
		return "empty"
	}
	return "set"
}

// TokenStore persists one channel's tokens (the PostgreSQL implementation lives in
// internal/store, encrypted).
type TokenStore interface {
	// Load returns the stored tokens.
	Load(ctx context.Context) (Tokens, error)
	// Refresh runs fn while holding a lock on the channel's tokens that spans
	// goroutines AND processes (PostgreSQL: a transaction with SELECT ... FOR UPDATE
	// or an advisory lock), passing the freshest stored tokens. If fn returns
	// changed=true, the new tokens are stored and committed before Refresh returns,
	// and Refresh returns them; otherwise it returns current.
	Refresh(ctx context.Context, fn func(current Tokens) (next Tokens, changed bool, err error)) (Tokens, error)
}

// TokenSource hands out a valid access token for one channel.
type TokenSource interface {
	// Token returns an access token that is valid for at least a while, refreshing
	// it first if it expires within the refresh-ahead window.
	Token(ctx context.Context) (string, error)
	// ForceRefresh is called after EKM rejected stale with a 401. It refreshes only
	// if the stored access token is still stale (another caller may have refreshed
	// already) and returns the token to retry with.
	ForceRefresh(ctx context.Context, stale string) (string, error)
}

// TokenSourceConfig configures NewTokenSource.
type TokenSourceConfig struct {
	// TokenURL is EKM's token endpoint, e.g. TokenURL(DefaultBaseURL).
	TokenURL     string
	ClientID     string
	ClientSecret string
	// Store persists the tokens and serialises refreshes across processes.
	Store TokenStore
	// HTTPClient calls the token endpoint; nil means a client with a 30 s timeout.
	HTTPClient *http.Client
	// RefreshAhead is how long before expiry a token is refreshed (default 5 min),
	// so that a token never expires between Token and the request using it.
	RefreshAhead time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// OnNeedsReauth is called once when the refresh token is found dead (or EKM
	// rejects the client secret), e.g. to
	// mark the channel "reauthorisation needed". It is not called again for the
	// same dead token.
	OnNeedsReauth func(ctx context.Context, err error)
	// Logger receives refresh events; never a token. Nil discards.
	Logger *slog.Logger
}

// refreshTimeout bounds one refresh, which runs detached from the caller's
// context: a refresh cancelled after EKM rotated the refresh token but before the
// new one was stored would lock the channel out.
const refreshTimeout = 30 * time.Second

// tokenSource implements TokenSource over a TokenStore.
type tokenSource struct {
	cfg   TokenSourceConfig
	group singleflight.Group // one refresh at a time in this process

	mu     sync.Mutex
	cached Tokens  // last tokens seen, to answer Token without the store
	dead   *string // refresh token found dead (rejected, or "" for none stored)
}

// NewTokenSource returns a TokenSource that refreshes ahead of expiry and never
// runs two refreshes of one channel at once: in-process through singleflight,
// across processes through Store.Refresh, inside which it re-checks the stored
// tokens so that a refresh done by another process is used, not repeated.
func NewTokenSource(cfg TokenSourceConfig) TokenSource {
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: refreshTimeout}
	}
	if cfg.RefreshAhead <= 0 {
		cfg.RefreshAhead = 5 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &tokenSource{cfg: cfg}
}

// Token implements TokenSource.
func (s *tokenSource) Token(ctx context.Context) (string, error) {
	s.mu.Lock()
	t := s.cached
	s.mu.Unlock()
	if s.fresh(t) {
		return t.AccessToken, nil
	}
	return s.refresh(ctx, "")
}

// ForceRefresh implements TokenSource.
func (s *tokenSource) ForceRefresh(ctx context.Context, stale string) (string, error) {
	return s.refresh(ctx, stale)
}

// fresh reports whether t's access token is usable for longer than RefreshAhead.
func (s *tokenSource) fresh(t Tokens) bool {
	return t.AccessToken != "" && s.cfg.Now().Add(s.cfg.RefreshAhead).Before(t.Expiry)
}

// usable reports whether t can be handed out instead of refreshing: fresh, and
// not the token a 401 just rejected.
func (s *tokenSource) usable(t Tokens, stale string) bool {
	return s.fresh(t) && (stale == "" || t.AccessToken != stale)
}

// refresh gets a usable token, joining a refresh already under way in this
// process. The shared work runs on a context detached from the caller's (see
// refreshTimeout); a caller whose context ends stops waiting for it.
func (s *tokenSource) refresh(ctx context.Context, stale string) (string, error) {
	key := "token"
	if stale != "" {
		key = "force:" + stale // only an in-memory map key, never logged
	}
	ch := s.group.DoChan(key, func() (any, error) {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), refreshTimeout)
		defer cancel()
		return s.refreshShared(rctx, stale)
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return "", r.Err
		}
		return r.Val.(string), nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// refreshShared is the body of one in-process refresh.
func (s *tokenSource) refreshShared(ctx context.Context, stale string) (string, error) {
	// Another process may have refreshed already: a plain read is cheaper than the
	// store's lock.
	loaded, err := s.cfg.Store.Load(ctx)
	if err != nil {
		return "", storeError(err)
	}
	if s.usable(loaded, stale) {
		s.remember(loaded)
		return loaded.AccessToken, nil
	}
	var reported bool // this call found the refresh token dead
	next, err := s.cfg.Store.Refresh(ctx, func(current Tokens) (Tokens, bool, error) {
		if s.usable(current, stale) {
			return current, false, nil
		}
		if s.knownDead(current.RefreshToken) {
			return current, false, &Error{Kind: KindNeedsReauth, Err: errors.New("the stored refresh token was already rejected")}
		}
		if current.RefreshToken == "" {
			s.markDead("")
			reported = true
			return current, false, &Error{Kind: KindNeedsReauth, Err: errors.New("no refresh token is stored")}
		}
		fresh, err := refreshTokensAt(ctx, s.cfg.HTTPClient, s.cfg.TokenURL, s.cfg.ClientID, s.cfg.ClientSecret, current.RefreshToken, s.cfg.Now())
		if err != nil {
			// A rejected refresh token, or a rejected client secret: either way only
			// the operator can fix it, so the channel is marked and not asked again.
			if IsNeedsReauth(err) || KindOf(err) == KindInvalidClient {
				s.markDead(current.RefreshToken)
				reported = true
			}
			return current, false, err
		}
		return fresh, true, nil
	})
	if err != nil {
		if AsError(err) == nil {
			err = storeError(err)
		}
		s.cfg.Logger.WarnContext(ctx, "ekm: token refresh failed", "kind", KindOf(err).String())
		if reported && s.cfg.OnNeedsReauth != nil {
			s.cfg.OnNeedsReauth(ctx, err)
		}
		return "", err
	}
	s.remember(next)
	s.cfg.Logger.InfoContext(ctx, "ekm: access token ready", "expiry", next.Expiry)
	return next.AccessToken, nil
}

// knownDead reports whether refresh was already found dead, so that the endpoint
// is not asked again and OnNeedsReauth is not called again for it.
func (s *tokenSource) knownDead(refresh string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dead != nil && *s.dead == refresh
}

// markDead records refresh as dead.
func (s *tokenSource) markDead(refresh string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dead = &refresh
}

// remember caches t for Token's fast path.
func (s *tokenSource) remember(t Tokens) {
	s.mu.Lock()
	s.cached = t
	s.mu.Unlock()
}

// storeError classifies a failure of the token store as retryable: it is the
// database, not EKM, and a later attempt may well find it back.
func storeError(err error) error {
	if e := AsError(err); e != nil {
		return err
	}
	return &Error{Kind: KindRetryable, Err: fmt.Errorf("token store: %w", err)}
}

// MemoryTokenStore is a TokenStore in memory, for tests and the simulator-backed
// dev setup. Its mutex is held while Refresh's fn runs, which serialises refreshes
// across goroutines (not processes).
type MemoryTokenStore struct {
	mu     sync.Mutex
	tokens Tokens
	writes int
}

// NewMemoryTokenStore returns a store holding t.
func NewMemoryTokenStore(t Tokens) *MemoryTokenStore {
	return &MemoryTokenStore{tokens: t}
}

// Load implements TokenStore.
func (m *MemoryTokenStore) Load(ctx context.Context) (Tokens, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.tokens, nil
}

// Refresh implements TokenStore.
func (m *MemoryTokenStore) Refresh(ctx context.Context, fn func(current Tokens) (Tokens, bool, error)) (Tokens, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	next, changed, err := fn(m.tokens)
	if err != nil {
		return Tokens{}, err
	}
	if changed {
		m.tokens = next
		m.writes++
	}
	return m.tokens, nil
}

// Set replaces the stored tokens, as a reauthorisation does.
func (m *MemoryTokenStore) Set(t Tokens) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tokens = t
	m.writes++
}

// Writes returns how many times tokens were stored, for tests.
func (m *MemoryTokenStore) Writes() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.writes
}
