package ekm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// tokenEndpoint is a fake /connect/token with single-use refresh tokens.
type tokenEndpoint struct {
	mu      sync.Mutex
	issued  int
	live    map[string]bool // refresh tokens that may still be used
	calls   atomic.Int32
	fail    string        // if set, answer 400 with this OAuth error
	status  int           // if set, answer with this status
	release chan struct{} // if set, each answer waits for it
}

func newTokenEndpoint(refresh ...string) *tokenEndpoint {
	te := &tokenEndpoint{live: map[string]bool{}}
	for _, r := range refresh {
		te.live[r] = true
	}
	return te
}

func (te *tokenEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	te.calls.Add(1)
	if te.release != nil {
		<-te.release
	}
	_ = r.ParseForm()
	te.mu.Lock()
	defer te.mu.Unlock()
	switch {
	case te.status != 0:
		w.WriteHeader(te.status)
		return
	case te.fail != "":
		w.WriteHeader(400)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": te.fail})
		return
	case r.PostForm.Get("client_secret") != "the-secret":
		w.WriteHeader(400)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": "invalid_client"})
		return
	case r.PostForm.Get("grant_type") != "refresh_token" || !te.live[r.PostForm.Get("refresh_token")]:
		w.WriteHeader(400)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant"})
		return
	}
	delete(te.live, r.PostForm.Get("refresh_token"))
	te.issued++
	next := fmt.Sprintf("refresh-%d", te.issued+1)
	te.live[next] = true
	_ = json.NewEncoder(w).Encode(TokenResponse{AccessToken: fmt.Sprintf("access-%d", te.issued+1), ExpiresIn: 3600, TokenType: "Bearer", RefreshToken: next})
}

// newSource returns a token source over store against te, with a hook counter.
func newSource(te http.Handler, store TokenStore, hook *atomic.Int32) TokenSource {
	return NewTokenSource(TokenSourceConfig{
		TokenURL: "http://ekm.test/connect/token", ClientID: "client", ClientSecret: "the-secret",
		Store: store, HTTPClient: inMemoryClient(te),
		OnNeedsReauth: func(context.Context, error) {
			if hook != nil {
				hook.Add(1)
			}
		},
	})
}

// expired returns tokens whose access token has expired.
func expired() Tokens {
	return Tokens{AccessToken: "access-1", RefreshToken: "refresh-1", Expiry: time.Now().Add(-time.Minute)}
}

func TestTokenIsServedFromTheStoreWhileFresh(t *testing.T) {
	te := newTokenEndpoint("refresh-1")
	store := NewMemoryTokenStore(Tokens{AccessToken: "access-1", RefreshToken: "refresh-1", Expiry: time.Now().Add(time.Hour)})
	src := newSource(te, store, nil)
	for range 3 {
		if tok, err := src.Token(t.Context()); err != nil || tok != "access-1" {
			t.Fatalf("Token = %q, %v", tok, err)
		}
	}
	if te.calls.Load() != 0 {
		t.Errorf("token endpoint called %d times for a fresh token", te.calls.Load())
	}
}

func TestTokenRefreshesAheadOfExpiryAndStoresTheRotatedRefreshToken(t *testing.T) {
	te := newTokenEndpoint("refresh-1")
	store := NewMemoryTokenStore(Tokens{AccessToken: "access-1", RefreshToken: "refresh-1", Expiry: time.Now().Add(4 * time.Minute)})
	src := newSource(te, store, nil)
	tok, err := src.Token(t.Context())
	if err != nil || tok != "access-2" {
		t.Fatalf("Token = %q, %v; want the refreshed access-2", tok, err)
	}
	stored, _ := store.Load(t.Context())
	if stored.RefreshToken != "refresh-2" || stored.AccessToken != "access-2" || time.Until(stored.Expiry) < 59*time.Minute {
		t.Errorf("stored %v, want the rotated tokens with a fresh expiry", stored)
	}
}

func TestTwentyGoroutinesWithOneExpiredTokenCauseOneRefresh(t *testing.T) {
	te := newTokenEndpoint("refresh-1")
	te.release = make(chan struct{})
	src := newSource(te, NewMemoryTokenStore(expired()), nil)
	var wg sync.WaitGroup
	got := make([]string, 20)
	for i := range got {
		wg.Go(func() {
			tok, err := src.Token(t.Context())
			if err != nil {
				t.Error(err)
			}
			got[i] = tok
		})
	}
	close(te.release)
	wg.Wait()
	if te.calls.Load() != 1 {
		t.Errorf("token endpoint called %d times, want 1", te.calls.Load())
	}
	for _, tok := range got {
		if tok != "access-2" {
			t.Fatalf("tokens handed out = %v, want all access-2", got)
		}
	}
}

func TestTwoProcessesSharingTheStoreRefreshOnce(t *testing.T) {
	// Two token sources stand for two worker processes: no shared singleflight,
	// only the store's lock.
	te := newTokenEndpoint("refresh-1")
	store := NewMemoryTokenStore(expired())
	a, b := newSource(te, store, nil), newSource(te, store, nil)
	var wg sync.WaitGroup
	for _, src := range []TokenSource{a, b, a, b} {
		wg.Go(func() {
			if tok, err := src.Token(t.Context()); err != nil || tok != "access-2" {
				t.Errorf("Token = %q, %v", tok, err)
			}
		})
	}
	wg.Wait()
	if te.calls.Load() != 1 {
		t.Errorf("token endpoint called %d times, want 1: the second process must use the first one's refresh", te.calls.Load())
	}
}

func TestInvalidGrantNeedsReauthCallsTheHookOnceAndIsNotRetried(t *testing.T) {
	te := newTokenEndpoint() // refresh-1 is not live: already used
	var hook atomic.Int32
	store := NewMemoryTokenStore(expired())
	src := newSource(te, store, &hook)
	for range 3 {
		_, err := src.Token(t.Context())
		if !IsNeedsReauth(err) || IsRetryable(err) {
			t.Fatalf("err = %v, want needs-reauth", err)
		}
	}
	if te.calls.Load() != 1 || hook.Load() != 1 {
		t.Errorf("endpoint calls %d, hook calls %d; want 1 and 1", te.calls.Load(), hook.Load())
	}
	// The operator reauthorises: new tokens work at once.
	store.Set(Tokens{AccessToken: "access-9", RefreshToken: "refresh-9", Expiry: time.Now().Add(time.Hour)})
	if tok, err := src.Token(t.Context()); err != nil || tok != "access-9" {
		t.Errorf("after reauthorisation Token = %q, %v", tok, err)
	}
}

func TestMissingRefreshTokenNeedsReauth(t *testing.T) {
	te := newTokenEndpoint()
	var hook atomic.Int32
	src := newSource(te, NewMemoryTokenStore(Tokens{}), &hook)
	for range 2 {
		if _, err := src.Token(t.Context()); !IsNeedsReauth(err) {
			t.Fatalf("err = %v, want needs-reauth", err)
		}
	}
	if te.calls.Load() != 0 || hook.Load() != 1 {
		t.Errorf("endpoint calls %d, hook calls %d; want 0 and 1", te.calls.Load(), hook.Load())
	}
}

func TestForceRefreshRefreshesOnlyWhileTheStoredTokenIsStale(t *testing.T) {
	te := newTokenEndpoint("refresh-1")
	store := NewMemoryTokenStore(Tokens{AccessToken: "access-1", RefreshToken: "refresh-1", Expiry: time.Now().Add(time.Hour)})
	src := newSource(te, store, nil)
	tok, err := src.ForceRefresh(t.Context(), "access-1")
	if err != nil || tok != "access-2" {
		t.Fatalf("ForceRefresh = %q, %v", tok, err)
	}
	// A second caller that also got a 401 with access-1 finds it replaced.
	tok, err = src.ForceRefresh(t.Context(), "access-1")
	if err != nil || tok != "access-2" || te.calls.Load() != 1 {
		t.Fatalf("second ForceRefresh = %q, %v after %d calls; want access-2 without a call", tok, err, te.calls.Load())
	}
}

// A rejected client secret stays an invalid-client error (the operator's fix is the
// secret, not a new consent), but like a dead refresh token it calls the hook once,
// so that the channel is marked and its flows stop asking.
func TestInvalidClientCallsTheReauthHookOnce(t *testing.T) {
	te := newTokenEndpoint("refresh-1")
	var hook atomic.Int32
	src := NewTokenSource(TokenSourceConfig{
		TokenURL: "http://ekm.test/connect/token", ClientID: "client", ClientSecret: "wrong",
		Store: NewMemoryTokenStore(expired()), HTTPClient: inMemoryClient(te),
		OnNeedsReauth: func(context.Context, error) { hook.Add(1) },
	})
	_, err := src.Token(t.Context())
	if KindOf(err) != KindInvalidClient || hook.Load() != 1 {
		t.Fatalf("err = %v, hook %d; want invalid client and the hook called once", err, hook.Load())
	}
	if _, err := src.Token(t.Context()); err == nil || hook.Load() != 1 {
		t.Fatalf("second call: err = %v, hook %d; want an error and no second hook", err, hook.Load())
	}
}

func TestTransientTokenEndpointFailureIsRetryable(t *testing.T) {
	te := newTokenEndpoint("refresh-1")
	te.status = http.StatusServiceUnavailable
	src := newSource(te, NewMemoryTokenStore(expired()), nil)
	if _, err := src.Token(t.Context()); KindOf(err) != KindRetryable {
		t.Fatalf("err = %v, want retryable", err)
	}
}

// failingStore refuses to commit, as a database might.
type failingStore struct{ *MemoryTokenStore }

func (f failingStore) Refresh(ctx context.Context, fn func(Tokens) (Tokens, bool, error)) (Tokens, error) {
	return f.MemoryTokenStore.Refresh(ctx, func(cur Tokens) (Tokens, bool, error) {
		if _, _, err := fn(cur); err != nil {
			return Tokens{}, false, err
		}
		return Tokens{}, false, errors.New("commit failed")
	})
}

func TestNewAccessTokenIsNotHandedOutUnlessTheRotatedRefreshTokenWasStored(t *testing.T) {
	te := newTokenEndpoint("refresh-1")
	src := newSource(te, failingStore{NewMemoryTokenStore(expired())}, nil)
	tok, err := src.Token(t.Context())
	if err == nil || tok != "" || KindOf(err) != KindRetryable {
		t.Fatalf("Token = %q, %v; want no token and a retryable store error", tok, err)
	}
}

func TestRefreshCompletesAndIsStoredWhenTheCallerGivesUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		te := newTokenEndpoint("refresh-1")
		te.release = make(chan struct{})
		store := NewMemoryTokenStore(expired())
		src := newSource(te, store, nil)
		ctx, cancel := context.WithCancel(t.Context())
		errc := make(chan error)
		go func() {
			_, err := src.Token(ctx)
			errc <- err
		}()
		synctest.Wait() // the refresh is at the endpoint
		cancel()
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		close(te.release) // EKM answers after the caller left
		synctest.Wait()
		if stored, _ := store.Load(t.Context()); stored.RefreshToken != "refresh-2" {
			t.Errorf("stored %v: the rotated refresh token was lost", stored)
		}
	})
}

func TestTokensNeverPrintTheirValues(t *testing.T) {
	tk := Tokens{AccessToken: "AT-SECRET", RefreshToken: "RT-SECRET", Expiry: time.Unix(0, 0)}
	log, buf := debugLogger()
	log.Info("tokens", "t", tk)
	for _, s := range []string{fmt.Sprint(tk), fmt.Sprintf("%+v", tk), fmt.Sprintf("%#v", tk), buf.String()} {
		if containsAny(s, "AT-SECRET", "RT-SECRET") {
			t.Errorf("secret printed: %s", s)
		}
	}
}
