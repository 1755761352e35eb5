package cli

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/ekmsync/ekmsync/internal/config"
	"github.com/ekmsync/ekmsync/internal/store/storetest"
)

// rawDriverText is what must never reach an operator: PostgreSQL's and pgx's own words.
func rawDriverText(s string) bool {
	return strings.Contains(s, "SQLSTATE") || strings.Contains(s, "ERROR:") || strings.Contains(s, "dial tcp") ||
		strings.Contains(s, "failed to connect")
}

// Every SQLSTATE class an operator can meet is put in words; the command's own
// context around the driver error is kept.
func TestOperatorMessageReplacesTheDriverError(t *testing.T) {
	for code, want := range map[string]string{
		"22003": "out of the range", "22021": "NUL or invalid UTF-8", "22P02": "cannot be stored", "23505": "already exists",
		"23503": "not in the hub", "23514": "outside what the hub accepts", "42P01": "starter migrate", "42501": "may not do this",
		"40001": "run the command again", "57P01": "try again", "XX000": "EKMSYNC_LOG_LEVEL=debug",
	} {
		err := fmt.Errorf("save settings of channel shop: %w", &pgconn.PgError{Severity: "ERROR", Code: code, Message: "raw words"})
		got := operatorMessage(err, &bytes.Buffer{})
		if rawDriverText(got) || strings.Contains(got, "raw words") || !strings.Contains(got, want) || !strings.HasPrefix(got, "save settings of channel shop: ") {
			t.Errorf("SQLSTATE %s: %q; want the context kept and %q instead of the driver's text", code, got, want)
		}
	}
}

// On a real PostgreSQL: a schema the starter does not know (not migrated) and an
// unreachable server are reported in words that say what to do, in text and in
// --json, and the raw error shows only in the debug log.
func TestCLIShowsNoRawDatabaseError(t *testing.T) {
	db := storetest.NewEmpty(t) // no migrations: every table is missing (42P01)
	run := func(url string, args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		cfg := &config.Starter{}
		cfg.DatabaseURL = config.DatabaseURL(url)
		code := Main(context.Background(), args, IO{Stdout: &out, Stderr: &errOut, Config: cfg})
		return code, out.String(), errOut.String()
	}
	code, out, errOut := run(db.URL, "stock", "set", "SKU-1", "5", "--json")
	if code != ExitFailed || rawDriverText(out+errOut) || !strings.Contains(errOut, "run 'starter migrate'") || !strings.Contains(out, "starter migrate") {
		t.Errorf("unmigrated schema: exit %d, stdout %q, stderr %q; want exit 1 saying to run 'starter migrate', without the driver's text", code, out, errOut)
	}
	code, _, errOut = run("postgres://postgres@127.0.0.1:1/ekmsync?sslmode=disable&connect_timeout=5", "channel", "list")
	if code != ExitFailed || rawDriverText(errOut) || !strings.Contains(errOut, "could not connect to PostgreSQL") {
		t.Errorf("unreachable server: exit %d, stderr %q; want 'could not connect to PostgreSQL' without the driver's text", code, errOut)
	}
	t.Setenv("EKMSYNC_LOG_LEVEL", "debug")
	_, _, errOut = run(db.URL, "price", "set", "SKU-1", "2.50")
	if !strings.Contains(errOut, "SQLSTATE 42P01") || !strings.Contains(errOut, "level=DEBUG") {
		t.Errorf("with EKMSYNC_LOG_LEVEL=debug the raw error is not in the debug log: %q", errOut)
	}
}

// stock set and price set refuse what the hub's columns cannot hold, by name,
// before the database is opened.
func TestStockAndPriceSetRefuseUnstorableArguments(t *testing.T) {
	for _, args := range [][]string{
		{"stock", "set", "SKU-1", "2147483648"},
		{"stock", "set", "SKU-1", "--", "-2147483649"},
		{"stock", "set", "SKU-1", "NaN"},
		{"stock", "set", "SKU-1", "1e3"},
		{"stock", "set", "SKU\x00", "1"},
		{"stock", "set", "SKU-1", "1", "--location", "a\x00b"},
		{"stock", "set", strings.Repeat("s", 300), "1"},
		{"price", "set", "SKU-1", "NaN"},
		{"price", "set", "SKU-1", "Inf"},
		{"price", "set", "SKU-1", "99999999999"},
		{"price", "set", "SKU\x00", "1.00"},
	} {
		var out, errOut bytes.Buffer
		code := Main(context.Background(), args, IO{Stdout: &out, Stderr: &errOut, Config: &config.Starter{}})
		if code != ExitUsage || rawDriverText(errOut.String()) {
			t.Errorf("starter %q: exit %d, stderr %q; want a usage error (2)", args, code, errOut.String())
		}
	}
}
