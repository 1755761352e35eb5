package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/config"
	"github.com/ekmsync/ekmsync/internal/contract"
	"github.com/ekmsync/ekmsync/internal/secret"
	"github.com/ekmsync/ekmsync/internal/store"
	"github.com/ekmsync/ekmsync/internal/store/storetest"
)

// runMain runs the starter without a database or Temporal.
func runMain(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = Main(context.Background(), args, IO{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut, Config: &config.Starter{}})
	return code, out.String(), errOut.String()
}

// docs/cli.md is what the commands say about themselves.
func TestCLIReferenceIsUpToDate(t *testing.T) {
	var want bytes.Buffer
	if err := Reference(&want); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../../docs/cli.md")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatal("docs/cli.md is out of date: run 'go run ./internal/cmd/clidoc' (or 'go generate ./internal/cli') and commit it")
	}
}

// A usage mistake is one line on stderr that names it, exit 2, and nothing on
// stdout (where a --json consumer reads): never the whole usage.
func TestUsageErrorsGoToStderrWithExit2(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"orders", "list", "shop", "--bogus", "--json"}, "unknown flag: --bogus"},
		{[]string{"push", "status", "shop", "--limit", "many"}, `invalid argument "many" for "--limit"`},
		{[]string{"orders", "lst"}, `unknown command "lst"; did you mean list?`},
		{[]string{"chanel", "list"}, `unknown command "chanel"`},
		{[]string{"verson"}, "did you mean version?"},
		{[]string{"completion", "bsh"}, "did you mean bash"},
		{[]string{"version", "-o", "yaml"}, "--output must be text or json"},
		{[]string{"push", "status", "shop", "--limit", "-5"}, "--limit must be 1 or more"}, // a flag's value, not an argument
	} {
		code, out, errOut := runMain(tc.args...)
		if code != ExitUsage || out != "" || !strings.Contains(errOut, tc.want) || strings.Contains(errOut, "Usage:") {
			t.Errorf("starter %s: exit %d, stdout %q, stderr %q; want exit 2, one line naming %q on stderr", strings.Join(tc.args, " "), code, out, errOut, tc.want)
		}
	}
	// A group without its command is a usage error too; its usage goes to stderr.
	if code, out, errOut := runMain("orders"); code != ExitUsage || out != "" || !strings.Contains(errOut, "sync") {
		t.Errorf("starter orders: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// --help is asked for: on stdout, exit 0, flags in --flag style.
func TestHelpShowsDoubleDashFlags(t *testing.T) {
	code, out, _ := runMain("push", "status", "--help")
	if code != ExitOK || !strings.Contains(out, "--limit int") || !strings.Contains(out, "-o, --output format") ||
		!strings.Contains(out, "--json") || strings.Contains(out, " -limit") {
		t.Fatalf("push status --help: exit %d\n%s", code, out)
	}
	code, out, _ = runMain("--help")
	if code != ExitOK || !strings.Contains(out, "EKMSYNC_DATABASE_URL") || !strings.Contains(out, "completion") {
		t.Fatalf("starter --help: exit %d\n%s", code, out)
	}
}

// -o json, --output=json and --json are the same; text is the default.
func TestOutputFlagAndItsJSONAlias(t *testing.T) {
	for _, args := range [][]string{{"version", "-o", "json"}, {"version", "--output=json"}, {"version", "--json"}, {"-o", "json", "version"}} {
		code, out, _ := runMain(args...)
		var v versionResult
		if code != ExitOK || UnmarshalJSON([]byte(out), &v) != nil || v.Version == "" {
			t.Errorf("starter %s: exit %d, %q", strings.Join(args, " "), code, out)
		}
	}
	if code, out, _ := runMain("version"); code != ExitOK || !strings.HasPrefix(out, "starter ") {
		t.Errorf("starter version: exit %d, %q", code, out)
	}
}

// Every time.Duration in --json output is a Go duration string, wherever it sits
// (here channel.Settings and a workflow status, both also Temporal payloads), and
// reads back.
func TestDurationsInJSONAreGoDurationStrings(t *testing.T) {
	type out struct {
		Settings channel.Settings         `json:"settings"`
		Status   *contract.OrderSyncState `json:"status"`
		Every    []time.Duration          `json:"every"`
		ByName   map[string]time.Duration `json:"by_name"`
		Progress contract.ListingProgress `json:"progress"`
	}
	v := out{Settings: channel.Defaults(), Status: &contract.OrderSyncState{Interval: 5 * time.Minute},
		Every: []time.Duration{time.Second}, ByName: map[string]time.Duration{"a": 90 * time.Second}}
	v.Progress.PerPage = 1500 * time.Millisecond
	var buf bytes.Buffer
	writeJSON(&buf, v)
	for _, want := range []string{`"interval": "5m0s"`, `"order_sync_interval": "5m0s"`, `"listing_interval": "12h0m0s"`, `"1s"`, `"a": "1m30s"`, `"per_page": "1.5s"`} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("no %s in\n%s", want, buf.String())
		}
	}
	var back out
	if err := UnmarshalJSON(buf.Bytes(), &back); err != nil || back.Status.Interval != 5*time.Minute || back.Settings.ListingInterval != v.Settings.ListingInterval {
		t.Fatalf("read back: %v, %+v", err, back.Status)
	}
}

// A failed command's JSON leads with the error and keeps what it had got.
func TestJSONErrorKeepsTheResult(t *testing.T) {
	var buf bytes.Buffer
	writeJSONError(&buf, "no pass ran: channel shop is disabled: off", pushNowResult{Channel: "shop"})
	var got struct {
		Error   string `json:"error"`
		Channel string `json:"channel"`
		Result  struct {
			Ran *bool `json:"ran"`
		} `json:"result"`
	}
	if err := UnmarshalJSON(buf.Bytes(), &got); err != nil || got.Error == "" || got.Channel != "shop" || got.Result.Ran == nil || *got.Result.Ran {
		t.Fatalf("%v: %s", err, buf.String())
	}
	buf.Reset()
	writeJSONError(&buf, "boom", nil)
	if strings.TrimSpace(buf.String()) != "{\n  \"error\": \"boom\"\n}" {
		t.Fatalf("%q", buf.String())
	}
}

// A bare negative number is an argument, unless it is the value of the flag before it.
func TestNegativeNumbersAreArguments(t *testing.T) {
	c := newCobra(root(), IO{})
	got := restoreNegatives(protectNegatives(c, []string{"push", "status", "shop", "--limit", "-5", "-6"}))
	if !slices.Equal(got, []string{"push", "status", "shop", "--limit", "-5", "-6"}) {
		t.Fatalf("round trip: %q", got)
	}
	p := protectNegatives(c, []string{"stock", "set", "A", "-5", "--location", "-7", "--", "-8"})
	if !strings.HasPrefix(p[3], negativeMark) || p[5] != "-7" || p[7] != "-8" {
		t.Fatalf("protected: %q", p)
	}
	// Parsed as the level, then refused for its range (no database needed).
	if code, _, errOut := runMain("stock", "set", "A", "-2147483649"); code != ExitUsage || !strings.Contains(errOut, `"-2147483649" is not a whole number`) {
		t.Fatalf("stock set A -2147483649: exit %d, %q", code, errOut)
	}
}

// completion bash|zsh|fish prints each shell's script.
func TestCompletionScripts(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish"} {
		code, out, _ := runMain("completion", shell)
		if code != ExitOK || !strings.Contains(out, "starter") || !strings.Contains(out, "__complete") {
			t.Errorf("completion %s: exit %d, %d bytes", shell, code, len(out))
		}
	}
}

// Commands that take a channel complete the hub's channel names; an unreachable
// database completes none, without a word.
func TestCompletionOffersChannelNames(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	rawKey, _ := base64.StdEncoding.DecodeString(secret.Generate())
	key, _ := secret.NewKey(rawKey)
	for _, name := range []string{"shop-a", "shop-b", "other"} {
		s := channel.Defaults()
		s.Name, s.APIBaseURL, s.ClientID, s.RedirectURL, s.Currency = name, "https://api.ekm.net", "cid", "http://127.0.0.1/cb", "GBP"
		if _, err := db.Store.CreateChannel(ctx, s, func(id int64) []byte { return store.SealClientSecret(key, id, "x") }, "test"); err != nil {
			t.Fatal(err)
		}
	}
	complete := func(url string, args ...string) (int, []string, string) {
		var out, errOut bytes.Buffer
		cfg := &config.Starter{}
		cfg.DatabaseURL = config.DatabaseURL(url)
		code := Main(ctx, append([]string{"__complete"}, args...), IO{Stdout: &out, Stderr: &errOut, Config: cfg})
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		return code, lines[:len(lines)-1], errOut.String() // the last line is cobra's directive
	}
	for _, args := range [][]string{{"push", "now", "shop"}, {"channel", "show", "shop"}, {"orders", "list", "--limit", "3", "shop"}} {
		code, names, _ := complete(db.URL, args...)
		if code != ExitOK || !slices.Equal(names, []string{"shop-a", "shop-b"}) {
			t.Errorf("complete %q: exit %d, %q", args, code, names)
		}
	}
	if _, names, _ := complete(db.URL, "push", "now", "shop-a", ""); len(names) != 0 {
		t.Errorf("a second argument completed channel names: %q", names)
	}
	if _, names, _ := complete(db.URL, "channel", "add", ""); len(names) != 0 {
		t.Errorf("channel add completed existing names: %q", names)
	}
	code, names, errOut := complete("postgres://postgres@127.0.0.1:1/ekmsync?sslmode=disable&connect_timeout=2", "push", "now", "")
	if code != ExitOK || len(names) != 0 || strings.Contains(errOut, "PostgreSQL") || strings.Contains(errOut, "connect") {
		t.Errorf("unreachable database: exit %d, %q, stderr %q", code, names, errOut)
	}
}

// With --headless the starter opens the authorize URL itself: it says so instead of
// asking for a browser.
func TestHeadlessAuthorisationDoesNotAskForABrowser(t *testing.T) {
	var headless, browser bytes.Buffer
	(&env{io: IO{Stderr: &headless}}).showURL(true)("http://127.0.0.1:1/authorize")
	(&env{io: IO{Stderr: &browser}}).showURL(false)("http://127.0.0.1:1/authorize")
	if strings.Contains(headless.String(), "Open this URL") || !strings.Contains(headless.String(), "without a browser") ||
		!strings.Contains(headless.String(), "/authorize") {
		t.Errorf("--headless says %q", headless.String())
	}
	if !strings.Contains(browser.String(), "Open this URL in a browser") {
		t.Errorf("without --headless: %q", browser.String())
	}
}
