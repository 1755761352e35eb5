package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/ekmsync/ekmsync/internal/ekmsim"
	"github.com/ekmsync/ekmsync/internal/harness"
)

// monitoringDir holds the Grafana dashboard and the Prometheus alert rules.
const monitoringDir = "../../deploy/monitoring/"

// metricName finds the ekmsync and Temporal SDK metric names in a PromQL expression.
var metricName = regexp.MustCompile(`\b(?:ekmsync|temporal)_[a-z0-9_]+\b`)

// TestMonitoringNamesExportedMetrics runs a worker through a listing download, an
// order sync and a push pass, scrapes its admin /metrics, and fails if the
// dashboard or an alert rule names a metric the worker does not export.
func TestMonitoringNamesExportedMetrics(t *testing.T) {
	named := map[string][]string{} // metric name: where it is named
	for _, e := range dashboardExprs(t) {
		for _, m := range metricName.FindAllString(e.expr, -1) {
			named[m] = append(named[m], "dashboard panel "+e.where)
		}
	}
	for _, e := range alertExprs(t) {
		for _, m := range metricName.FindAllString(e.expr, -1) {
			named[m] = append(named[m], "alert "+e.where)
		}
	}
	if len(named) < 10 {
		t.Fatalf("the dashboard and the rules name only %d metrics: %v", len(named), named)
	}

	p := newPushEnv(t, harness.Options{})
	p.product("MON-1", 5, 3)
	p.MustCLI("listings", "download", p.Channel, "--wait")
	syncNow(t, p.Env)
	p.pushNow()
	p.MustCLI("channel", "drift", p.Channel) // the drift gauges are of the last comparison

	url := "http://" + string(p.WorkerConfig.AdminAddr) + "/metrics"
	// The push loop's first pass and the SDK's periodic metrics may come just after
	// the commands return: scrape until all are there or a minute has passed.
	var missing []string
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(time.Second) {
		exported := scrape(t, url)
		missing = missing[:0]
		for m, where := range named {
			if !exported[m] {
				missing = append(missing, m+" (named by "+strings.Join(where, ", ")+")")
			}
		}
		if len(missing) == 0 || time.Now().After(deadline) {
			break
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		t.Fatalf("not exported by the worker:\n%s", strings.Join(missing, "\n"))
	}
}

type namedExpr struct{ where, expr string }

// dashboardExprs returns every panel query of the Grafana dashboard (and its
// template variables' queries).
func dashboardExprs(t *testing.T) []namedExpr {
	t.Helper()
	raw, err := os.ReadFile(monitoringDir + "grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	type panel struct {
		Title   string `json:"title"`
		Targets []struct {
			Expr string `json:"expr"`
		} `json:"targets"`
	}
	var d struct {
		Panels     []panel `json:"panels"`
		Templating struct {
			List []struct {
				Name       string `json:"name"`
				Definition string `json:"definition"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("grafana-dashboard.json: %v", err)
	}
	var out []namedExpr
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			out = append(out, namedExpr{p.Title, tg.Expr})
		}
	}
	for _, v := range d.Templating.List {
		out = append(out, namedExpr{"variable " + v.Name, v.Definition})
	}
	return out
}

// alertExprs returns every rule of the Prometheus alert rules.
func alertExprs(t *testing.T) []namedExpr {
	t.Helper()
	raw, err := os.ReadFile(monitoringDir + "alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Groups []struct {
			Rules []struct {
				Alert string `yaml:"alert"`
				Expr  string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(raw, &f); err != nil {
		t.Fatalf("alerts.yml: %v", err)
	}
	var out []namedExpr
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" || r.Expr == "" {
				t.Fatalf("alerts.yml: a rule without alert or expr: %+v", r)
			}
			out = append(out, namedExpr{r.Alert, r.Expr})
		}
	}
	return out
}

// scrape returns the names of the samples /metrics serves.
func scrape(t *testing.T, url string) map[string]bool {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	names := map[string]bool{}
	for _, line := range strings.Split(string(body), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if i := strings.IndexAny(line, "{ "); i > 0 {
			names[line[:i]] = true
		}
	}
	return names
}

// TestMetricsReportWhatHappened: after a listing download, an order sync and a
// push pass, /metrics reports the channel's health as the hub has it (state,
// quarantined orders, loops running, token age) and counts the orders the sync
// stored and the EKM requests it made.
func TestMetricsReportWhatHappened(t *testing.T) {
	p := newPushEnv(t, harness.Options{})
	p.product("MET-1", 5, 3)
	h := p.Env
	for range 3 {
		h.Sim.CreateOrder(ekmsim.OrderSpec{Status: "Processing"})
	}
	p.MustCLI("listings", "download", p.Channel, "--wait")
	synced := syncNow(t, h)
	if _, err := h.DB.Pool.Exec(t.Context(), `INSERT INTO order_problems (channel_id, problem_key, reason, raw) VALUES ($1, 'x', 'bad', '{}')`, p.channelID); err != nil {
		t.Fatal(err)
	}
	url := "http://" + string(h.WorkerConfig.AdminAddr) + "/metrics"
	body := scrapeText(t, url)
	ch := `channel="` + p.Channel + `"`
	for _, want := range []string{
		`ekmsync_channel_state{` + ch + `,state="ok"} 1`,
		`ekmsync_channel_state{` + ch + `,state="needs-reauth"} 0`,
		`ekmsync_orders_quarantined{` + ch + `} 1`,
		`ekmsync_loop_running{` + ch + `,loop="order-sync"} 1`,
		`ekmsync_loop_running{` + ch + `,loop="channel-push"} 1`,
		`ekmsync_order_sync_interval_seconds{` + ch + `} 300`,
		`ekmsync_listing_download_in_progress{` + ch + `} 0`,
		`ekmsync_hub_scrape_error 0`,
	} {
		if !strings.Contains(body, "\n"+want+"\n") {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	// Each of the 3 orders is new to exactly one sync (the loop's first, or
	// sync-now's), and that sync's activity counts it once it returns.
	if synced.New+synced.Unchanged+synced.Updated != 3 {
		t.Fatalf("the sync saw %+v, want the 3 orders", synced)
	}
	newOrders := `ekmsync_orders_total{` + ch + `,outcome="new"}`
	for deadline := time.Now().Add(30 * time.Second); sampleValue(body, newOrders) < 3 && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		body = scrapeText(t, url)
	}
	if v := sampleValue(body, newOrders); v != 3 {
		t.Errorf("%s = %v, want 3", newOrders, v)
	}
	if !regexp.MustCompile(`\nekmsync_ekm_requests_total\{` + regexp.QuoteMeta(ch) + `,endpoint="GET /api/v\d/orders[^"]*",status="200"\} [1-9]`).MatchString(body) {
		t.Errorf("no order request counted:\n%s", grepLines(body, "ekmsync_ekm_requests_total"))
	}
	if v := sampleValue(body, `ekmsync_refresh_token_age_seconds{`+ch+`}`); v < 0 || v > 3600 {
		t.Errorf("refresh token age %v s, want the few seconds since 'channel add'", v)
	}
}

// scrapeText is a /metrics page with a leading newline, so that a pattern can
// anchor a sample's name at "\n".
func scrapeText(t *testing.T, url string) string {
	t.Helper()
	return "\n" + httpGet(t, url)
}

// sampleValue is the value of the series written exactly as series, or -1.
func sampleValue(body, series string) float64 {
	for _, line := range strings.Split(body, "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			v, err := strconv.ParseFloat(rest, 64)
			if err == nil {
				return v
			}
		}
	}
	return -1
}

func grepLines(body, prefix string) string {
	var out []string
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, prefix) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}
