package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/config"
	"github.com/ekmsync/ekmsync/internal/ekmsim"
	"github.com/ekmsync/ekmsync/internal/harness"
	"github.com/ekmsync/ekmsync/internal/secret"
	"github.com/ekmsync/ekmsync/workflows"
)

const demoSecret = "ekmsim-demo-secret"

type screenJSON struct {
	Channel struct {
		Name            string            `json:"name"`
		Enabled         bool              `json:"enabled"`
		Currency        string            `json:"currency"`
		StockPercentage int               `json:"stock_percentage"`
		AuthState       string            `json:"auth_state"`
		Mapping         map[string]string `json:"status_mapping"`
	} `json:"channel"`
	Status struct {
		State  string `json:"state"`
		Reason string `json:"reason"`
	} `json:"status"`
	Settings []struct {
		Key   string `json:"setting"`
		Value string `json:"value"`
	} `json:"settings"`
	OrderSyncDate   *string `json:"order_sync_date"`
	ListingDownload struct {
		InProgress bool `json:"in_progress"`
	} `json:"listing_download"`
	LastErrors []any `json:"last_errors"`
}

func TestChannelAddShowListJSON(t *testing.T) {
	h := harness.New(t, harness.Options{Disabled: true})
	var scr screenJSON
	h.CLIJSON(&scr, "channel", "show", h.Channel)
	if scr.Channel.Name != h.Channel || scr.Channel.Currency != "GBP" || scr.Status.State != "disabled" ||
		scr.Channel.AuthState != "ok" || scr.Channel.Mapping["Dispatched"] != "shipped" || scr.Channel.Mapping["Processing"] != "paid" {
		t.Fatalf("screen = %+v", scr)
	}
	if len(scr.Settings) != len(channel.Registry) || scr.LastErrors == nil {
		t.Fatalf("screen lacks settings or last_errors: %+v", scr)
	}
	var list struct {
		Channels []struct {
			Name   string                 `json:"name"`
			Status struct{ State string } `json:"status"`
		} `json:"channels"`
	}
	h.CLIJSON(&list, "channel", "list")
	if len(list.Channels) != 1 || list.Channels[0].Name != h.Channel || list.Channels[0].Status.State != "disabled" {
		t.Fatalf("list = %+v", list)
	}
	// Adding the same name again is refused, exit 1, with the reason.
	secretFile := filepath.Join(t.TempDir(), "secret")
	_ = os.WriteFile(secretFile, []byte(demoSecret), 0o600)
	_, errOut, code := h.CLI("channel", "add", h.Channel, "--api-url", h.SimURL, "--client-id", "x", "--client-secret-file", secretFile, "--yes")
	if code != 1 || !strings.Contains(errOut, "already exists") {
		t.Fatalf("duplicate add: exit %d, %s", code, errOut)
	}
	// An empty client secret is a usage error that names the problem.
	_, errOut, code = h.CLI("channel", "add", "other", "--api-url", h.SimURL, "--client-id", "x", "--client-secret-file", os.DevNull, "--yes")
	if code != 2 || !strings.Contains(errOut, "client secret") {
		t.Fatalf("empty secret: exit %d, %s", code, errOut)
	}
	// Unknown channel: exit 1, says how to list them.
	_, errOut, code = h.CLI("channel", "show", "nope")
	if code != 1 || !strings.Contains(errOut, "starter channel list") {
		t.Fatalf("unknown channel: exit %d, %s", code, errOut)
	}
}

func TestChannelSetValidatesAuditsAndChangesNothingOnError(t *testing.T) {
	h := harness.New(t, harness.Options{Disabled: true})
	cases := []struct{ args, want string }{
		{"currency=XYZ", "currency"},
		{"stock-percentage=101", "stock-percentage"},
		{"max-listed=-1", "max-listed"},
		{"end-when=abc", "end-when"},
		{"status:Nonexistent=paid", "does not exist in the shop"},
		{"status:Pending=sold", "Unmapped, Paid, Unpaid, Shipped, Cancelled"},
		{"no-such-setting=1", "unknown setting"},
	}
	for _, c := range cases {
		out, errOut, code := h.CLI("channel", "set", h.Channel, "max-listed=9", c.args, "--json")
		if code != 2 || !strings.Contains(errOut, c.want) || !strings.Contains(out, `"error"`) {
			t.Errorf("set %s: exit %d, stderr %q, stdout %q; want exit 2 naming %q", c.args, code, errOut, out, c.want)
		}
	}
	if s := h.Settings(); s.MaxListed != 0 {
		t.Fatalf("a rejected change set max-listed to %d", s.MaxListed)
	}
	var res struct {
		Changed []channel.AppliedChange `json:"changed"`
	}
	h.CLIJSON(&res, "channel", "set", h.Channel, "stock-percentage=80", "currency=eur", "status:Pending=paid")
	if len(res.Changed) != 3 {
		t.Fatalf("changed = %+v", res.Changed)
	}
	s := h.Settings()
	if s.StockPercentage != 80 || s.Currency != "EUR" || s.Mapping.Target("PENDING") != channel.Paid {
		t.Fatalf("settings after set: %+v", s)
	}
	log, err := h.Store().AuditLog(context.Background(), h.Channel, "setting.", 20)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range log {
		if e.Subject == "stock-percentage" && e.OldValue == "100" && e.NewValue == "80" && !e.At.IsZero() {
			found = true
		}
	}
	if !found {
		t.Fatalf("no audit entry for stock-percentage 100 -> 80: %+v", log)
	}
}

func TestChannelEnableDisableAndMisconfigured(t *testing.T) {
	h := harness.New(t, harness.Options{Disabled: true})
	var res struct {
		Status channel.Status `json:"status"`
	}
	h.CLIJSON(&res, "channel", "enable", h.Channel)
	if res.Status.State != channel.StateOK {
		t.Fatalf("after enable: %+v", res.Status)
	}
	// No status mapped to Paid, and unpaid download off: misconfigured, with the reason.
	args := []string{"channel", "set", h.Channel}
	for _, st := range h.Settings().ShopStatuses {
		if h.Settings().Mapping.Target(st) == channel.Paid {
			args = append(args, "status:"+st+"=unmapped")
		}
	}
	h.CLIJSON(&res, args...)
	if res.Status.State != channel.StateMisconfigured || !strings.Contains(res.Status.Reason, "Paid") {
		t.Fatalf("without Paid: %+v", res.Status)
	}
	h.CLIJSON(&res, "channel", "disable", h.Channel)
	if res.Status.State != channel.StateDisabled {
		t.Fatalf("after disable: %+v", res.Status)
	}
}

func TestChannelTestRevokeAndReauthorise(t *testing.T) {
	h := harness.New(t, harness.Options{})
	var ok struct {
		OK       bool     `json:"ok"`
		Currency string   `json:"currency"`
		Statuses []string `json:"statuses"`
	}
	h.CLIJSON(&ok, "channel", "test", h.Channel)
	if !ok.OK || ok.Currency != "GBP" || len(ok.Statuses) == 0 {
		t.Fatalf("test = %+v", ok)
	}
	h.Sim.RevokeConsent()
	out, errOut, code := h.CLI("channel", "test", h.Channel, "--json")
	if code != 1 || !strings.Contains(out, "refresh token is expired or was revoked") {
		t.Fatalf("test after revoke: exit %d\n%s\n%s", code, out, errOut)
	}
	var scr screenJSON
	h.CLIJSON(&scr, "channel", "show", h.Channel)
	if scr.Status.State != "needs-reauth" || len(scr.LastErrors) == 0 {
		t.Fatalf("after revoke: %+v", scr)
	}
	// A wrong new client secret is refused by EKM at the code exchange.
	wrong := filepath.Join(t.TempDir(), "wrong")
	_ = os.WriteFile(wrong, []byte("not-the-secret"), 0o600)
	if _, errOut, code := h.CLI("channel", "reauthorise", h.Channel, "--headless", "--timeout", "30s", "--client-secret-file", wrong); code != 1 || strings.Contains(errOut, "not-the-secret") {
		t.Fatalf("reauthorise with a wrong secret: exit %d, %s", code, errOut)
	}
	right := filepath.Join(t.TempDir(), "right")
	_ = os.WriteFile(right, []byte(demoSecret), 0o600)
	h.MustCLI("channel", "reauthorise", h.Channel, "--headless", "--timeout", "30s", "--client-secret-file", right)
	h.CLIJSON(&scr, "channel", "show", h.Channel)
	if scr.Status.State != "ok" {
		t.Fatalf("after reauthorise: %+v", scr.Status)
	}
	h.CLIJSON(&ok, "channel", "test", h.Channel)
	if !ok.OK {
		t.Fatal("test after reauthorise failed")
	}
}

func TestChannelRemoveKeepsDataUnlessPurged(t *testing.T) {
	h := harness.New(t, harness.Options{Disabled: true})
	ctx := context.Background()
	id := h.Settings().ID
	var res struct {
		Purged bool `json:"purged"`
	}
	h.CLIJSON(&res, "channel", "remove", h.Channel)
	if res.Purged {
		t.Fatal("purged without --purge")
	}
	if _, err := h.Store().ChannelByID(ctx, id); err != nil {
		t.Fatalf("data gone after a plain remove: %v", err)
	}
	if _, _, code := h.CLI("channel", "show", h.Channel); code != 1 {
		t.Fatal("a removed channel is still shown")
	}
	h.CLIJSON(&res, "channel", "remove", h.Channel, "--purge")
	if _, err := h.Store().ChannelByID(ctx, id); err == nil {
		t.Fatal("--purge kept the channel row")
	}
}

// Credentials are encrypted at rest: a dump of the database holds neither the
// client secret nor any token in plaintext, and nothing the CLI printed, the
// worker logged (at debug level, through token refreshes) or Temporal recorded in
// the channel's workflow histories holds them either. rotate-key re-encrypts
// under a new key.
func TestSecretsNeverInPlaintext(t *testing.T) {
	// Access tokens that live 3 seconds make the worker refresh on every sync.
	h := harness.New(t, harness.Options{DebugLog: true, Sim: ekmsim.Options{Seed: 4, Products: 30, Orders: 40, AccessTokenTTL: 3 * time.Second}})
	ctx := context.Background()
	id := h.Settings().ID
	first, err := h.Store().Tokens(h.Key, id).Load(ctx)
	if err != nil || first.AccessToken == "" || first.RefreshToken == "" {
		t.Fatalf("tokens: %v %v", first, err)
	}
	time.Sleep(4 * time.Second)
	h.MustCLI("orders", "sync", h.Channel)
	h.MustCLI("listings", "download", h.Channel, "--wait")
	tokens, err := h.Store().Tokens(h.Key, id).Load(ctx)
	if err != nil || tokens.RefreshToken == first.RefreshToken {
		t.Fatalf("the worker did not refresh the tokens (%v): the test would not see a refresh", err)
	}
	secrets := []string{demoSecret, first.AccessToken, first.RefreshToken, tokens.AccessToken, tokens.RefreshToken}
	dump := pgDump(t, h)
	for _, s := range secrets {
		if bytes.Contains(dump, []byte(s)) {
			t.Fatalf("the database dump contains a secret in plaintext")
		}
	}
	var outputs strings.Builder
	for _, args := range [][]string{{"channel", "show", h.Channel}, {"channel", "show", h.Channel, "--json"},
		{"channel", "test", h.Channel, "--json"}, {"channel", "list", "--json"}, {"orders", "status", h.Channel, "--json"},
		{"listings", "status", h.Channel, "--json"}, {"push", "status", h.Channel, "--json"}} {
		out, errOut, _ := h.CLI(args...)
		outputs.WriteString(out + errOut)
	}
	if !strings.Contains(h.WorkerLog(), "level=DEBUG") {
		t.Fatal("the worker did not log at debug level: the check below would see little")
	}
	outputs.WriteString(h.WorkerLog())
	for _, wf := range []string{workflows.OrderSyncID(h.Channel), workflows.ChannelPushID(h.Channel), workflows.ListingDownloadID(h.Channel)} {
		outputs.Write(workflowShow(t, h, wf))
	}
	for _, s := range secrets {
		if strings.Contains(outputs.String(), s) {
			t.Fatalf("a secret appears in CLI output, the worker log or a workflow history")
		}
	}

	// rotate-key: the new key opens everything, the old one nothing.
	newKeyText := secret.Generate()
	keyFile := filepath.Join(t.TempDir(), "new.key")
	if err := os.WriteFile(keyFile, []byte(newKeyText), 0o600); err != nil {
		t.Fatal(err)
	}
	var rot struct {
		Channels int `json:"channels_resealed"`
	}
	h.CLIJSON(&rot, "rotate-key", "--new-key-file", keyFile)
	if rot.Channels != 1 {
		t.Fatalf("rotate-key resealed %d channels", rot.Channels)
	}
	raw, _ := config.ParseKey(newKeyText)
	newKey, _ := secret.NewKey(raw)
	if got, err := h.Store().Tokens(newKey, id).Load(ctx); err != nil || got.RefreshToken == "" {
		t.Fatalf("new key does not open the tokens: %v", err)
	}
	if _, err := h.Store().ClientSecret(ctx, h.Key, id); err == nil {
		t.Fatal("the old key still opens the client secret")
	}
	if s, err := h.Store().ClientSecret(ctx, newKey, id); err != nil || s != demoSecret {
		t.Fatalf("new key: client secret %v", err)
	}
	h.Config.SecretKey = raw
	var ok struct {
		OK bool `json:"ok"`
	}
	h.CLIJSON(&ok, "channel", "test", h.Channel)
	if !ok.OK {
		t.Fatal("channel test fails under the new key")
	}
}

func pgDump(t *testing.T, h *harness.Env) []byte {
	t.Helper()
	base := strings.Split(h.DB.URL, "?")[0]
	cmd := exec.Command("pg_dump", "--dbname="+base, "--schema="+h.DB.Schema, "--data-only")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("pg_dump: %v\n%s", err, out)
	}
	var n int
	_ = h.DB.Pool.QueryRow(context.Background(), `SELECT count(*) FROM channel_credentials WHERE access_token IS NOT NULL`).Scan(&n)
	if n != 1 || !bytes.Contains(out, []byte("channel_credentials")) {
		t.Fatalf("the dump does not cover the credentials (%d rows with tokens)", n)
	}
	return out
}

// channel add proposes a mapping and lets the operator accept, edit or refuse it.
func TestChannelAddConfirmsOrEditsTheMapping(t *testing.T) {
	h := harness.New(t, harness.Options{NoChannel: true})
	secretFile := filepath.Join(t.TempDir(), "secret")
	_ = os.WriteFile(secretFile, []byte(demoSecret), 0o600)
	add := func(name, stdin string) (string, string, int) {
		return h.CLIInput(stdin, "channel", "add", name, "--api-url", h.SimURL, "--client-id", "ekmsim-demo-client",
			"--client-secret-file", secretFile, "--redirect-url", "http://"+string(h.Config.CallbackAddr)+"/callback",
			"--headless", "--timeout", "30s", "--map", "Awaiting Stock=paid")
	}
	// Edit: the statuses are asked in the shop's order; an empty answer keeps the proposal.
	statuses := h.Sim.Statuses()
	answers := "e\n"
	for _, st := range statuses {
		if st.Name == "Pending" {
			answers += "cancelled\n"
		} else {
			answers += "\n"
		}
	}
	answers += "y\n"
	if out, errOut, code := add("edited", answers); code != 0 {
		t.Fatalf("edit: exit %d\n%s\n%s", code, out, errOut)
	}
	s, err := h.Store().Channel(context.Background(), "edited")
	if err != nil {
		t.Fatal(err)
	}
	if s.Mapping.Target("PENDING") != channel.Cancelled || s.Mapping.Target("AWAITING STOCK") != channel.Paid || s.Mapping.Target("DISPATCHED") != channel.Shipped {
		t.Fatalf("mapping after edit and --map: %v", s.Mapping)
	}
	// Refuse: exit 1 and the channel keeps no mapping until set.
	if _, errOut, code := add("refused", "n\n"); code != 1 || !strings.Contains(errOut, "mapping was not accepted") {
		t.Fatalf("refuse: exit %d, %s", code, errOut)
	}
	// A bad --map names the problem, exit 2.
	_, errOut, code := h.CLIInput("", "channel", "add", "badmap", "--api-url", h.SimURL, "--client-id", "ekmsim-demo-client",
		"--client-secret-file", secretFile, "--redirect-url", "http://"+string(h.Config.CallbackAddr)+"/callback",
		"--headless", "--timeout", "30s", "--yes", "--map", "Nope=paid")
	if code != 2 || !strings.Contains(errOut, "has no status") {
		t.Fatalf("bad --map: exit %d, %s", code, errOut)
	}
}

// Removing a channel also stops its running back-fills, not only its loops.
func TestChannelRemoveStopsRunningBackfills(t *testing.T) {
	h := harness.New(t, harness.Options{Channel: "rm-backfill",
		Sim: ekmsim.Options{Seed: 9, Products: 20, Orders: 200, BucketSize: 2, LeakPerSecond: 1}})
	var bf struct {
		WorkflowID string `json:"workflow_id"`
	}
	h.CLIJSON(&bf, "orders", "backfill", h.Channel, "--from", time.Now().AddDate(0, 0, -60).Format(time.DateOnly), "--to", time.Now().AddDate(0, 0, 1).Format(time.DateOnly))
	if bf.WorkflowID == "" {
		t.Fatal("no back-fill workflow id")
	}
	h.MustCLI("channel", "remove", h.Channel)
	h.Eventually(20*time.Second, "the back-fill is terminated", func() bool {
		d, err := h.Temporal.DescribeWorkflowExecution(context.Background(), bf.WorkflowID, "")
		return err == nil && d.GetWorkflowExecutionInfo().GetStatus() == enums.WORKFLOW_EXECUTION_STATUS_TERMINATED
	})
}
