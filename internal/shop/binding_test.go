package shop_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/ekm"
	"github.com/ekmsync/ekmsync/internal/secret"
	"github.com/ekmsync/ekmsync/internal/shop"
	"github.com/ekmsync/ekmsync/internal/store"
	"github.com/ekmsync/ekmsync/internal/store/storetest"
)

// attacker is a host that must never receive a request: it counts what it gets.
func attacker(t *testing.T) (*httptest.Server, *atomic.Int64) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

// countingTransport counts every request the connector sends, wherever it goes.
type countingTransport struct{ n atomic.Int64 }

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return http.DefaultTransport.RoundTrip(r)
}

func refusedAndMarked(t *testing.T, st *store.Store, err error, wantReason string) {
	t.Helper()
	if !errors.Is(err, shop.ErrRefused) || !errors.Is(err, shop.ErrNeedsReauth) {
		t.Fatalf("Client: %v, want a refusal (ErrRefused, which is also ErrNeedsReauth)", err)
	}
	got, err := st.Channel(context.Background(), "shop")
	if err != nil {
		t.Fatal(err)
	}
	status := got.Status()
	if got.AuthState != channel.AuthRefused || status.State != channel.StateNeedsReauth || !strings.Contains(status.Reason, wantReason) {
		t.Fatalf("channel after the refusal: auth %s, status %+v; want refused, needs-reauth, a reason with %q", got.AuthState, status, wantReason)
	}
}

// An UPDATE of channels.api_base_url (anyone who may write hub tables) does not
// redirect the credentials: the worker refuses to build the client, sends nothing
// to the new host, and marks the channel with the command that fixes it. Setting
// the URL back through the CLI's path re-binds and lifts the refusal.
func TestSQLChangedAPIURLIsRefusedAndMarked(t *testing.T) {
	conn, st, _, s := setup(t)
	ctx := context.Background()
	c, err := conn.Client(ctx, s) // sealed before binding: bound here, at first use (loopback)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Currency(ctx); err != nil {
		t.Fatalf("bound channel: %v", err)
	}
	evil, hits := attacker(t)
	if _, err := st.Pool.Exec(ctx, `UPDATE channels SET api_base_url = $1 WHERE id = $2`, evil.URL, s.ID); err != nil {
		t.Fatal(err)
	}
	changed, _ := st.Channel(ctx, "shop")
	_, err = conn.Client(ctx, changed)
	refusedAndMarked(t, st, err, "starter channel set shop api-base-url="+s.APIBaseURL)
	// The client built before the change stops too: the gate reads the refusal.
	if _, err := c.Currency(ctx); !errors.Is(err, shop.ErrRefused) {
		t.Fatalf("the earlier client after the refusal: %v, want ErrRefused", err)
	}
	// Neither the token store nor the secret opens for the new URL.
	if _, err := st.TokensFor(conn.Key, s.ID, evil.URL).Load(ctx); err == nil {
		t.Fatal("tokens handed out for the attacker's URL")
	}
	if _, err := st.ClientSecret(ctx, conn.Key, s.ID); err == nil {
		t.Fatal("client secret handed out for the attacker's URL")
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the attacker's host received %d requests", n)
	}

	// The operator restores the URL through the CLI's path: bound again, usable again.
	fixed, _, err := st.UpdateChannelAPI(ctx, conn.Key, "shop", "test", false, func(cur channel.Settings) (channel.Settings, []channel.AppliedChange, error) {
		return channel.Apply(cur, []channel.Change{{Key: "api-base-url", Value: s.APIBaseURL}})
	})
	if err != nil {
		t.Fatal(err)
	}
	if fixed.AuthState != channel.AuthOK {
		t.Fatalf("after the re-bind the auth state is %s, want ok", fixed.AuthState)
	}
	c, err = conn.Client(ctx, fixed)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Currency(ctx); err != nil {
		t.Fatalf("after the re-bind: %v", err)
	}
	var audits int
	if err := st.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'credentials.bound' AND channel_id = $1`, s.ID).Scan(&audits); err != nil || audits < 1 {
		t.Fatalf("credentials.bound audit rows = %d (%v)", audits, err)
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the attacker's host received %d requests", n)
	}
}

// ekmChannel adds a channel bound to EKM's own API (no request is made to it).
func ekmChannel(t *testing.T) (*shop.Connector, *store.Store, *countingTransport, channel.Settings) {
	t.Helper()
	db := storetest.New(t)
	raw, _ := base64.StdEncoding.DecodeString(secret.Generate())
	key, _ := secret.NewKey(raw)
	ctx := context.Background()
	s := channel.Defaults()
	s.Name, s.APIBaseURL, s.ClientID, s.RedirectURL, s.Currency, s.Enabled = "shop", ekm.DefaultBaseURL, "cid", "http://127.0.0.1/cb", "GBP", true
	created, err := db.Store.CreateChannel(ctx, s, func(id int64) []byte { return store.SealClientSecret(key, id, "the-secret") }, "test")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Store.SaveTokens(ctx, key, created.ID, ekm.Tokens{AccessToken: "a", RefreshToken: "r", Expiry: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := db.Store.BindCredentials(ctx, key, created.ID, ekm.DefaultBaseURL, false, "test"); err != nil {
		t.Fatal(err)
	}
	tr := &countingTransport{}
	return &shop.Connector{Store: db.Store, Key: key, HTTP: &http.Client{Transport: tr}}, db.Store, tr, created
}

// A channel bound to EKM cannot be pointed at a loopback host by SQL, nor can SQL
// widen its binding to a simulator's: the boxes no longer open, nothing is sent.
func TestSQLCannotRebindOrWidenAnEKMChannel(t *testing.T) {
	conn, st, tr, s := ekmChannel(t)
	ctx := context.Background()
	evil, hits := attacker(t)
	if _, err := st.Pool.Exec(ctx, `UPDATE channels SET api_base_url = $1 WHERE id = $2`, evil.URL, s.ID); err != nil {
		t.Fatal(err)
	}
	changed, _ := st.Channel(ctx, "shop")
	_, err := conn.Client(ctx, changed)
	refusedAndMarked(t, st, err, "starter channel set shop api-base-url="+ekm.DefaultBaseURL)

	// Rewriting the binding too: the sealed boxes do not open under it.
	if _, err := st.Pool.Exec(ctx, `UPDATE channel_credentials SET bound_to = 'simulator ' || $1 WHERE channel_id = $2`, evil.URL, s.ID); err != nil {
		t.Fatal(err)
	}
	_, err = conn.Client(ctx, changed)
	refusedAndMarked(t, st, err, "does not open under its binding")
	if hits.Load() != 0 || tr.n.Load() != 0 {
		t.Fatalf("requests sent: attacker %d, in all %d; want none", hits.Load(), tr.n.Load())
	}
}

// Credentials sealed before binding existed bind at first use only to EKM's host
// or a loopback one; any other URL is refused, saying how to bind it, and the
// CLI's path binds a non-EKM host only with --simulator.
func TestLegacyCredentialsBindOnlyToEKMOrLoopback(t *testing.T) {
	db := storetest.New(t)
	raw, _ := base64.StdEncoding.DecodeString(secret.Generate())
	key, _ := secret.NewKey(raw)
	ctx := context.Background()
	s := channel.Defaults()
	s.Name, s.APIBaseURL, s.ClientID, s.RedirectURL, s.Currency, s.Enabled = "shop", "https://ekm.attacker.example", "cid", "http://127.0.0.1/cb", "GBP", true
	created, err := db.Store.CreateChannel(ctx, s, func(id int64) []byte { return store.SealClientSecret(key, id, "the-secret") }, "test")
	if err != nil {
		t.Fatal(err)
	}
	tr := &countingTransport{}
	conn := &shop.Connector{Store: db.Store, Key: key, HTTP: &http.Client{Transport: tr}}
	_, err = conn.Client(ctx, created)
	refusedAndMarked(t, db.Store, err, "--simulator api-base-url=https://ekm.attacker.example")
	if tr.n.Load() != 0 {
		t.Fatalf("%d requests sent", tr.n.Load())
	}

	setURL := func(u string, simulator bool) error {
		_, _, err := db.Store.UpdateChannelAPI(ctx, key, "shop", "test", simulator, func(cur channel.Settings) (channel.Settings, []channel.AppliedChange, error) {
			return channel.Apply(cur, []channel.Change{{Key: "api-base-url", Value: u}})
		})
		return err
	}
	var hostErr *channel.APIHostError
	if err := setURL("https://ekm.attacker.example", false); !errors.As(err, &hostErr) {
		t.Fatalf("binding a foreign host without --simulator: %v, want an APIHostError", err)
	}
	if err := setURL("https://ekm.attacker.example", true); err != nil {
		t.Fatalf("with --simulator: %v", err)
	}
	got, _ := db.Store.Channel(ctx, "shop")
	if got.AuthState != channel.AuthUnauthorised {
		t.Fatalf("after binding a never-authorised channel: auth %s, want unauthorised", got.AuthState)
	}
	if _, err := db.Store.ClientSecret(ctx, key, created.ID); err != nil {
		t.Fatalf("the secret after binding: %v", err)
	}
}

// A bound API that redirects (a 307 would re-send the token request's body, with
// the client secret and refresh token) cannot lead the credentials elsewhere: no
// redirect to another host is followed.
func TestNoRedirectLeadsCredentialsToAnotherHost(t *testing.T) {
	evil, hits := attacker(t)
	redirecting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, evil.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	t.Cleanup(redirecting.Close)
	db := storetest.New(t)
	raw, _ := base64.StdEncoding.DecodeString(secret.Generate())
	key, _ := secret.NewKey(raw)
	ctx := context.Background()
	s := channel.Defaults()
	s.Name, s.APIBaseURL, s.ClientID, s.RedirectURL, s.Currency, s.Enabled = "shop", redirecting.URL, "cid", "http://127.0.0.1/cb", "GBP", true
	created, err := db.Store.CreateChannel(ctx, s, func(id int64) []byte { return store.SealClientSecret(key, id, "the-secret") }, "test")
	if err != nil {
		t.Fatal(err)
	}
	// An expired access token: the first call refreshes, posting the secret.
	if err := db.Store.SaveTokens(ctx, key, created.ID, ekm.Tokens{AccessToken: "a", RefreshToken: "r", Expiry: time.Now().Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := db.Store.BindCredentials(ctx, key, created.ID, redirecting.URL, false, "test"); err != nil {
		t.Fatal(err)
	}
	created, _ = db.Store.Channel(ctx, "shop")
	conn := &shop.Connector{Store: db.Store, Key: key, HTTP: &http.Client{}}
	c, err := conn.Client(ctx, created)
	if err != nil {
		t.Fatal(err)
	}
	callCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if _, err := c.Currency(callCtx); err == nil {
		t.Fatal("a call through a redirecting API succeeded")
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the redirect target received %d requests", n)
	}
}
