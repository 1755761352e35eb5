package shop_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/ekm"
	"github.com/ekmsync/ekmsync/internal/ekmsim"
	"github.com/ekmsync/ekmsync/internal/shop"
	"github.com/ekmsync/ekmsync/internal/store"
	"github.com/ekmsync/ekmsync/internal/store/hubtest"
	"github.com/ekmsync/ekmsync/internal/store/storetest"
)

// clock is a clock the test moves forward: the simulator's (which lets refresh
// tokens lapse 15 days after their last use, as EKM does) and the keep-alive's.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// keepAliveSetup adds an authorised, disabled channel for a simulator on clk, with
// the given token-keepalive setting; the hub's refreshed_at is PostgreSQL's now(),
// which is where clk starts.
func keepAliveSetup(t *testing.T, keepAlive bool) (*shop.Connector, *store.Store, *ekmsim.Sim, channel.Settings, *clock) {
	t.Helper()
	db := storetest.New(t)
	ctx := context.Background()
	clk := &clock{}
	if err := db.Pool.QueryRow(ctx, `SELECT now()`).Scan(&clk.now); err != nil {
		t.Fatal(err)
	}
	sim, conn, created := hubtest.SimChannel(t, db, ekmsim.Options{Seed: 1, Products: 1, Now: clk.Now}, func(s *channel.Settings) {
		s.Enabled, s.TokenKeepAlive = false, keepAlive
	})
	return conn, db.Store, sim, created, clk
}

// A disabled channel left alone for 29 days keeps its consent: its tokens are
// refreshed once they are 7 days unused, which moves EKM's 15-day lapse on; two
// workers refreshing at once send one refresh, and a worker that read the last
// use before a refresh sends none.
func TestKeepAliveRefreshesAnIdleDisabledChannelBeforeTheLapse(t *testing.T) {
	conn, st, sim, s, clk := keepAliveSetup(t, true)
	ctx := context.Background()
	other := &shop.Connector{Store: st, Key: conn.Key, HTTP: &http.Client{}} // a second worker
	ka := func(c *shop.Connector) *shop.KeepAlive { return &shop.KeepAlive{Connector: c, Now: clk.Now} }

	clk.advance(6 * 24 * time.Hour)
	if res, err := ka(conn).Pass(ctx); err != nil || res.Refreshed != 0 {
		t.Fatalf("pass at 6 days: %+v, %v; want nothing refreshed yet", res, err)
	}
	clk.advance(2 * 24 * time.Hour)
	before, _ := st.TokenLife(ctx, s.ID)
	tokenCalls := sim.RequestCounts()["POST /connect/token"]
	// Two workers renew the token they both found due at once (what the passes of
	// two workers do): one refresh reaches EKM.
	var wg sync.WaitGroup
	for _, c := range []*shop.Connector{conn, other} {
		wg.Go(func() {
			if _, err := c.RefreshTokens(ctx, s, *before.LastUsed); err != nil {
				t.Errorf("refresh at 8 days: %v", err)
			}
		})
	}
	wg.Wait()
	if got := sim.RequestCounts()["POST /connect/token"] - tokenCalls; got != 1 {
		t.Fatalf("two workers' refreshes at 8 days made %d token requests, want 1", got)
	}
	// A pass of a worker that read the token's last use before that refresh sends nothing.
	if done, err := conn.RefreshTokens(ctx, s, *before.LastUsed); done || err != nil {
		t.Fatalf("a refresh for a last use already moved on: %v, %v; want nothing done", done, err)
	}
	after, _ := st.TokenLife(ctx, s.ID)
	if !after.LastUsed.After(*before.LastUsed) || !after.LapsesAt.Equal(after.LastUsed.Add(ekm.RefreshTokenLifetime)) {
		t.Fatalf("token life before %+v, after %+v: want the last use and the lapse moved on", before, after)
	}
	if got, _ := st.Channel(ctx, "shop"); got.Enabled {
		t.Fatal("the keep-alive enabled the channel")
	}
	// The pass: 7 days after that refresh (15 after the authorisation), it renews
	// the token once more.
	clk.advance(7 * 24 * time.Hour)
	if res, err := ka(conn).Pass(ctx); err != nil || res.Refreshed != 1 {
		t.Fatalf("pass at 15 days: %+v, %v; want one refresh", res, err)
	}
	after, _ = st.TokenLife(ctx, s.ID)
	// 29 days after the authorisation, long past the first tokens' lapse: the
	// stored token still refreshes, since it was last used at 15 days.
	clk.advance(14 * 24 * time.Hour)
	if _, err := conn.RefreshTokens(ctx, s, *after.LastUsed); err != nil {
		t.Fatalf("refresh at 29 days after the keep-alive at 15: %v", err)
	}
	if got, _ := st.Channel(ctx, "shop"); got.AuthState != channel.AuthOK {
		t.Fatalf("auth state %s, want ok", got.AuthState)
	}
}

// With token-keepalive off, nothing refreshes the idle channel's token: the pass
// warns once a day from 5 days before the lapse (in the log and the channel's
// last errors), and after the lapse EKM refuses the token, as the simulator
// models it, and the channel needs reauthorisation.
func TestKeepAliveOffWarnsFiveDaysBeforeTheLapse(t *testing.T) {
	conn, st, sim, s, clk := keepAliveSetup(t, false)
	ctx := context.Background()
	var logs bytes.Buffer
	ka := &shop.KeepAlive{Connector: conn, Now: clk.Now, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	tokenCalls := sim.RequestCounts()["POST /connect/token"]

	clk.advance(9 * 24 * time.Hour)
	if res, err := ka.Pass(ctx); err != nil || res.Refreshed != 0 || len(res.Warned) != 0 {
		t.Fatalf("pass at 9 days: %+v, %v; want neither a refresh nor a warning", res, err)
	}
	clk.advance(24*time.Hour + time.Minute) // 5 days before the lapse
	res, err := ka.Pass(ctx)
	if err != nil || len(res.Warned) != 1 || res.Refreshed != 0 {
		t.Fatalf("pass at 10 days: %+v, %v; want one warning, no refresh", res, err)
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "token-keepalive is off") {
		t.Fatalf("log: %s", logs.String())
	}
	errs, _ := st.RecentErrors(ctx, s.ID, 5)
	if len(errs) != 1 || errs[0].Flow != "token" || !strings.Contains(errs[0].Message, "starter channel reauthorise shop") {
		t.Fatalf("channel errors %+v, want the warning with what to do", errs)
	}
	clk.advance(time.Hour)
	if res, _ := ka.Pass(ctx); len(res.Warned) != 0 {
		t.Fatalf("a second warning within a day: %+v", res)
	}
	clk.advance(24 * time.Hour)
	if res, _ := ka.Pass(ctx); len(res.Warned) != 1 {
		t.Fatalf("no warning a day later: %+v", res)
	}
	if got := sim.RequestCounts()["POST /connect/token"]; got != tokenCalls {
		t.Fatalf("the keep-alive refreshed with token-keepalive off (%d token requests)", got-tokenCalls)
	}
	clk.advance(4 * 24 * time.Hour) // past the lapse
	life, _ := st.TokenLife(ctx, s.ID)
	if _, err := conn.RefreshTokens(ctx, s, *life.LastUsed); !ekm.IsNeedsReauth(err) {
		t.Fatalf("refresh after the lapse: %v, want needs-reauth", err)
	}
	if got, _ := st.Channel(ctx, "shop"); got.AuthState != channel.AuthNeedsReauth {
		t.Fatalf("auth state %s after the lapse, want needs-reauth", got.AuthState)
	}
}

// unreachable is a transport that never reaches EKM.
type unreachable struct{}

func (unreachable) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, errors.New("connection refused")
}

// With the keep-alive on but its refresh failing (EKM unreachable), the pass
// retries each time and, from 5 days before the lapse, warns with the cause.
func TestKeepAliveWarnsWhenItsRefreshKeepsFailing(t *testing.T) {
	conn, st, _, s, clk := keepAliveSetup(t, true)
	ctx := context.Background()
	conn.HTTP = &http.Client{Transport: unreachable{}}
	ka := &shop.KeepAlive{Connector: conn, Now: clk.Now}
	clk.advance(8 * 24 * time.Hour)
	if res, err := ka.Pass(ctx); err != nil || res.Failed != 1 || len(res.Warned) != 0 {
		t.Fatalf("pass at 8 days: %+v, %v; want a failed refresh and no warning yet", res, err)
	}
	clk.advance(2*24*time.Hour + time.Minute)
	res, err := ka.Pass(ctx)
	if err != nil || res.Failed != 1 || len(res.Warned) != 1 {
		t.Fatalf("pass at 10 days: %+v, %v; want a failed refresh and a warning", res, err)
	}
	errs, _ := st.RecentErrors(ctx, s.ID, 5)
	if len(errs) == 0 || errs[0].Flow != "token" || !strings.Contains(errs[0].Message, "keep-alive refresh fails") {
		t.Fatalf("channel errors %+v, want the warning with the refresh's failure", errs)
	}
	if got, _ := st.Channel(ctx, "shop"); got.AuthState != channel.AuthOK {
		t.Fatalf("an unreachable EKM changed the auth state to %s", got.AuthState)
	}
}
