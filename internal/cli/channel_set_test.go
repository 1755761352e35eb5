package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/config"
	"github.com/ekmsync/ekmsync/internal/secret"
	"github.com/ekmsync/ekmsync/internal/store"
	"github.com/ekmsync/ekmsync/internal/store/storetest"
)

// 'channel set api-base-url=' re-binds the credentials under the rule: EKM's host
// or loopback always, another host only with --simulator (or on a channel that
// already is a simulator channel); a URL changed by SQL is confirmed by setting it.
func TestChannelSetAPIBaseURLRebindsUnderTheRule(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	rawKey, _ := base64.StdEncoding.DecodeString(secret.Generate())
	key, _ := secret.NewKey(rawKey)
	s := channel.Defaults()
	s.Name, s.APIBaseURL, s.ClientID, s.RedirectURL, s.Currency = "shop", "https://api.ekm.net", "cid", "http://127.0.0.1/cb", "GBP"
	created, err := db.Store.CreateChannel(ctx, s, func(id int64) []byte { return store.SealClientSecret(key, id, "the-secret") }, "test")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Store.BindCredentials(ctx, key, created.ID, s.APIBaseURL, false, "test"); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (int, string) {
		var out, errOut bytes.Buffer
		cfg := &config.Starter{}
		cfg.DatabaseURL, cfg.SecretKey, cfg.Address = config.DatabaseURL(db.URL), config.SecretKey(rawKey), "127.0.0.1:1"
		code := Main(ctx, args, IO{Stdout: &out, Stderr: &errOut, Config: cfg})
		return code, errOut.String()
	}
	boundTo := func() string {
		var b string
		if err := db.Pool.QueryRow(ctx, `SELECT bound_to FROM channel_credentials WHERE channel_id = $1`, created.ID).Scan(&b); err != nil {
			t.Fatal(err)
		}
		return b
	}

	if code, errOut := run("channel", "set", "shop", "api-base-url=http://ekmsim:8090"); code != ExitUsage || !strings.Contains(errOut, "--simulator") {
		t.Fatalf("a foreign host without --simulator: exit %d, %q; want a usage error naming --simulator", code, errOut)
	}
	if got := boundTo(); got != "ekm https://api.ekm.net" {
		t.Fatalf("a refused change re-bound the credentials: %q", got)
	}
	if code, errOut := run("channel", "set", "shop", "api-base-url=http://ekmsim:8090", "--simulator"); code != ExitOK {
		t.Fatalf("with --simulator: exit %d, %q", code, errOut)
	}
	if got := boundTo(); got != "simulator http://ekmsim:8090" {
		t.Fatalf("bound_to = %q after the change", got)
	}
	// Changed by SQL, then confirmed through the CLI (same value: still re-bound).
	if _, err := db.Pool.Exec(ctx, `UPDATE channels SET api_base_url = 'http://127.0.0.2:9' WHERE id = $1`, created.ID); err != nil {
		t.Fatal(err)
	}
	if code, errOut := run("channel", "set", "shop", "api-base-url=http://127.0.0.2:9"); code != ExitOK {
		t.Fatalf("confirming the URL: exit %d, %q", code, errOut)
	}
	if got := boundTo(); got != "simulator http://127.0.0.2:9" {
		t.Fatalf("bound_to = %q after confirming", got)
	}
	if v, err := db.Store.ClientSecret(ctx, key, created.ID); err != nil || v != "the-secret" {
		t.Fatalf("the secret after re-binding: %q, %v", v, err)
	}
	var audits int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'credentials.bound' AND actor LIKE 'cli%'`).Scan(&audits); err != nil || audits != 2 {
		t.Fatalf("credentials.bound audited %d times by the CLI (%v), want 2", audits, err)
	}
	if code, errOut := run("channel", "set", "shop", "enabled=on", "--simulator"); code != ExitUsage {
		t.Fatalf("--simulator without api-base-url: exit %d, %q", code, errOut)
	}
}
