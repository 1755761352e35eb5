package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ekmsync/ekmsync/internal/ekm"
	"github.com/ekmsync/ekmsync/internal/ekmsim"
	"github.com/ekmsync/ekmsync/internal/harness"
	"github.com/ekmsync/ekmsync/internal/shop"
	"github.com/ekmsync/ekmsync/internal/webhook"
)

// subscribedURL is the channel's webhook URL as the simulator (EKM) has it.
func subscribedURL(t *testing.T, h *harness.Env) string {
	t.Helper()
	url, err := h.WebhookURL()
	if err != nil {
		t.Fatalf("%v: %+v", err, h.Sim.Subscriptions())
	}
	return url
}

func post(t *testing.T, url, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestWebhooksOnlyFromEKMAndCheap: the simulator's webhook, posted to the URL the
// channel subscribed with (its token), brings the order to PostgreSQL; forged
// ones (no token, a wrong token, another shop's username, a huge topic, another
// topic, an unknown channel) are answered like an unknown channel or refused, and
// cost no EKM request; 50 authenticated duplicates of one order cost one fetch;
// 'channel show' gives the subscribed URL with its token redacted.
func TestWebhooksOnlyFromEKMAndCheap(t *testing.T) {
	h := harness.New(t, harness.Options{Sim: ekmsim.Options{Seed: 7, Products: 10}})
	syncNow(t, h)
	url := subscribedURL(t, h)
	token := url[strings.LastIndex(url, "/")+1:]
	if len(token) < 40 {
		t.Fatalf("subscription URL %s carries no token", url)
	}
	var screen struct {
		Webhook struct {
			URL string `json:"url"`
		} `json:"webhook"`
	}
	h.CLIJSON(&screen, "channel", "show", h.Channel)
	out := h.MustCLI("channel", "show", h.Channel)
	if !strings.Contains(screen.Webhook.URL, webhook.PathPrefix+h.Channel+"/") || strings.Contains(screen.Webhook.URL+out, token) ||
		!strings.Contains(out, screen.Webhook.URL) {
		t.Fatalf("channel show: webhook URL %q (want it with the token redacted); text:\n%s", screen.Webhook.URL, out)
	}

	// The simulator's own webhook reaches PostgreSQL.
	o := h.Sim.CreateOrder(ekmsim.OrderSpec{Status: "Processing"})
	h.Eventually(20*time.Second, "the simulator's webhook's order in the hub", func() bool { _, ok := hubOrders(t, h)[o.ID]; return ok })

	// Forged webhooks, for an order EKM has: each one signalled would cost a fetch.
	before := h.Sim.RequestStats().ByRoute
	base := "http://" + string(h.WorkerConfig.HTTPAddr) + webhook.PathPrefix
	good := func(id int64) string {
		return fmt.Sprintf(`{"username":"demo-shop","topic":"order.created","entity_id":%d}`, id)
	}
	refusedStatus, refusedBody := post(t, base+"nosuchchannel/"+token, good(o.ID))
	if refusedStatus != http.StatusNotFound {
		t.Fatalf("unknown channel: %d %q", refusedStatus, refusedBody)
	}
	huge := fmt.Sprintf(`{"username":"demo-shop","topic":"%s","entity_id":%d}`, strings.Repeat("x", 63<<10), o.ID)
	likeUnknown := []struct{ name, url, body string }{
		{"no token", base + h.Channel, good(o.ID)},
		{"empty token", base + h.Channel + "/", good(o.ID)},
		{"wrong token", base + h.Channel + "/" + strings.Repeat("A", len(token)), good(o.ID)},
		{"token with a suffix", url + "/x", good(o.ID)},
		{"wrong username", url, fmt.Sprintf(`{"username":"other-shop","topic":"order.created","entity_id":%d}`, o.ID)},
		{"huge topic without a token", base + h.Channel, huge},
	}
	for _, c := range likeUnknown {
		if st, body := post(t, c.url, c.body); st != refusedStatus || body != refusedBody {
			t.Errorf("%s: %d %q, want %d %q as for an unknown channel", c.name, st, body, refusedStatus, refusedBody)
		}
	}
	if st, body := post(t, url, huge); st != http.StatusRequestEntityTooLarge || !strings.Contains(body, "4096 bytes") {
		t.Errorf("huge topic with the token: %d %q, want 413 naming the limit", st, body)
	}
	if st, _ := post(t, url, fmt.Sprintf(`{"username":"demo-shop","topic":"customer.created","entity_id":%d}`, o.ID)); st != http.StatusBadRequest {
		t.Errorf("another topic: %d, want 400", st)
	}
	var flood sync.WaitGroup
	for i := range 200 {
		flood.Go(func() {
			resp, err := http.Post(base+h.Channel+"/forged"+fmt.Sprint(i), "application/json", strings.NewReader(good(o.ID)))
			if err == nil {
				resp.Body.Close()
			}
		})
	}
	flood.Wait()

	// Then a new order, whose webhook the simulator sends, and 50 duplicates of
	// it at once: one fetch by id, and only for it.
	victim := h.Sim.CreateOrder(ekmsim.OrderSpec{Status: "Processing"})
	var dups sync.WaitGroup
	for range 50 {
		dups.Go(func() {
			if st, body := post(t, url, good(victim.ID)); st != http.StatusAccepted {
				t.Errorf("authenticated webhook: %d %q", st, body)
			}
		})
	}
	dups.Wait()
	h.Eventually(20*time.Second, "the authenticated webhook's order in the hub", func() bool { _, ok := hubOrders(t, h)[victim.ID]; return ok })
	after := h.Sim.RequestStats().ByRoute
	for route, n := range after {
		want := before[route]
		if route == "GET /api/v2/orders/{id}" || route == "GET /api/v2/orders/{id}/items" {
			want++ // the one fetch of the authenticated hint (and its items, if fetched apart)
		}
		if n > want {
			t.Errorf("%s: %d requests after the webhooks, %d before: forged or duplicate webhooks cost EKM requests", route, n, before[route])
		}
	}
	var hints int
	if err := h.DB.Pool.QueryRow(context.Background(), `SELECT count(*) FROM webhook_hints WHERE ekm_order_id = $1`, victim.ID).Scan(&hints); err != nil || hints != 1 {
		t.Fatalf("webhook_hints rows for the order: %d (%v)", hints, err)
	}
	// An id EKM does not have is fetched once, and remembered as not found.
	if st, _ := post(t, url, good(987654321)); st != http.StatusAccepted {
		t.Fatalf("authenticated webhook for an unknown order: %d", st)
	}
	h.Eventually(20*time.Second, "the unknown order remembered as not found", func() bool {
		var n int
		_ = h.DB.Pool.QueryRow(context.Background(), `SELECT count(*) FROM webhook_hints WHERE ekm_order_id = 987654321 AND not_found_until > now()`).Scan(&n)
		return n == 1
	})
	metrics := httpGet(t, "http://"+string(h.WorkerConfig.AdminAddr)+"/metrics")
	if !strings.Contains(metrics, `ekmsync_webhooks_total{outcome="refused"}`) {
		t.Fatalf("/metrics does not count the refused webhooks:\n%s", metrics)
	}
}

func httpGet(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// A channel subscribed before webhook tokens existed (no token in the hub, EKM
// posting to /webhooks/ekm/<channel>) gets a token at the next worker start, and
// its subscriptions move to the URL that carries it, under the base URL they had;
// its webhooks then bring orders in again. A second start changes nothing.
func TestWorkerStartGivesAnOldChannelATokenAndResubscribes(t *testing.T) {
	h := harness.New(t, harness.Options{Sim: ekmsim.Options{Seed: 8, Products: 10}})
	syncNow(t, h)
	ctx := context.Background()
	// Make the channel look as it did before tokens: tokenless subscriptions, no token.
	conn := &shop.Connector{Store: h.Store(), Key: h.Key, HTTP: http.DefaultClient}
	client, err := conn.Client(ctx, h.Settings())
	if err != nil {
		t.Fatal(err)
	}
	old := subscribedURL(t, h)
	legacy := "http://" + string(h.WorkerConfig.HTTPAddr) + webhook.PathPrefix + h.Channel
	for _, topic := range webhook.Topics {
		if _, err := client.CreateWebhook(ctx, ekm.AddWebhook{Topic: topic, Endpoint: legacy, IsEnabled: true}); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range h.Sim.Subscriptions() {
		if s.Endpoint == old {
			if err := client.DeleteWebhook(ctx, s.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := h.DB.Pool.Exec(ctx, `DELETE FROM webhook_tokens`); err != nil {
		t.Fatal(err)
	}
	h.StopWorker()
	h.StartWorker(false)
	h.Eventually(20*time.Second, "the channel re-subscribed with a token", func() bool {
		st, err := h.Store().WebhookState(ctx, h.Settings().ID)
		return err == nil && st.URL != ""
	})
	url := subscribedURL(t, h)
	var ours []string
	for _, s := range h.Sim.Subscriptions() {
		if strings.Contains(s.Endpoint, webhook.PathPrefix+h.Channel) {
			ours = append(ours, s.Topic+" "+s.Endpoint)
		}
	}
	if len(ours) != 2 || url == old || !strings.HasPrefix(url, legacy+"/") {
		t.Fatalf("subscriptions after the start: %v (old %s)", ours, old)
	}
	o := h.Sim.CreateOrder(ekmsim.OrderSpec{Status: "Processing"})
	// Only the webhook can bring it in this soon (the window sync runs every 5
	// minutes); the wait allows for a loop whose workflow task, just after the
	// restart, still went to the stopped worker's sticky queue first.
	h.Eventually(60*time.Second, "the webhook's order in the hub", func() bool { _, ok := hubOrders(t, h)[o.ID]; return ok })

	h.StopWorker()
	h.StartWorker(false)
	syncNow(t, h) // the start's own work, if any, is done by now
	if again := subscribedURL(t, h); again != url {
		t.Fatalf("a second start re-subscribed: %s, was %s", again, url)
	}
}

// 'channel reauthorise' gives the channel a new token: EKM's subscriptions move
// to the new URL, and the old URL is refused like an unknown channel.
func TestReauthoriseReplacesTheWebhookToken(t *testing.T) {
	h := harness.New(t, harness.Options{Sim: ekmsim.Options{Seed: 9, Products: 10}})
	old := subscribedURL(t, h)
	h.MustCLI("channel", "reauthorise", h.Channel, "--headless", "--timeout", "30s")
	url := subscribedURL(t, h) // fails on two URLs: the old subscriptions are gone
	if url == old {
		t.Fatal("reauthorise kept the old token")
	}
	body := `{"username":"demo-shop","topic":"order.created","entity_id":1}`
	h.Eventually(10*time.Second, "the new token accepted", func() bool { st, _ := post(t, url, body); return st == http.StatusAccepted })
	if st, _ := post(t, old, body); st != http.StatusNotFound {
		t.Fatalf("the old URL answered %d, want 404", st)
	}
}

// TestWebhookOrderFetchedByTheReceiverElseByTheLoop: a webhooked order comes into
// the hub through the receiver's own fetch, with nothing handed to the
// order-sync loop; when EKM answers slower than the receiver waits, the loop is
// handed the id and the order comes in all the same, once.
func TestWebhookOrderFetchedByTheReceiverElseByTheLoop(t *testing.T) {
	h := harness.New(t, harness.Options{Sim: ekmsim.Options{Seed: 8, Products: 5}})
	syncNow(t, h)
	subscribedURL(t, h)
	hintFetches := func() float64 { return loopStatus(t, h)["totals"].(map[string]any)["hint_fetches"].(float64) }
	before := hintFetches()
	metricsURL := "http://" + string(h.WorkerConfig.AdminAddr) + "/metrics"
	newOrders := `ekmsync_orders_total{channel="` + h.Channel + `",outcome="new"}`
	newBefore := max(sampleValue(scrapeText(t, metricsURL), newOrders), 0) // -1: none counted yet

	fast := h.Sim.CreateOrder(ekmsim.OrderSpec{Status: "Processing"})
	h.Eventually(20*time.Second, "the order in the hub", func() bool { _, ok := hubOrders(t, h)[fast.ID]; return ok })
	if n := sampleValue(scrapeText(t, metricsURL), newOrders); n != newBefore+1 {
		t.Errorf("%s = %v, was %v: the receiver's fetch of a new order should count it", newOrders, n, newBefore)
	}
	if f, s := webhookOutcome(t, h, "fetched"), webhookOutcome(t, h, "signalled"); f != 1 || s != 0 {
		t.Fatalf("webhook outcomes: fetched %d, signalled %d; want the receiver to fetch the order itself", f, s)
	}
	if n := hintFetches(); n != before {
		t.Fatalf("the loop fetched hints %v times, %v before: the receiver's fetch should have left it nothing", n, before)
	}

	// Every EKM answer now takes longer than the receiver waits.
	h.Sim.SetFaults(ekmsim.Faults{Latency: 1, LatencyDuration: 3 * time.Second})
	slow := h.Sim.CreateOrder(ekmsim.OrderSpec{Status: "Processing"})
	h.Eventually(20*time.Second, "the slow order handed to the loop", func() bool { return webhookOutcome(t, h, "signalled") == 1 })
	h.Sim.SetFaults(ekmsim.Faults{})
	h.Eventually(30*time.Second, "the slow order in the hub", func() bool { _, ok := hubOrders(t, h)[slow.ID]; return ok })
	if f := webhookOutcome(t, h, "fetched"); f != 1 {
		t.Fatalf("webhook outcomes: fetched %d, want 1 (the slow one was not)", f)
	}
	var n int
	if err := h.DB.Pool.QueryRow(context.Background(), `SELECT count(*) FROM orders WHERE ekm_order_id = ANY($1)`, []int64{fast.ID, slow.ID}).Scan(&n); err != nil || n != 2 {
		t.Fatalf("orders in the hub: %d, want 2 (%v)", n, err)
	}

	// A burst of orders at one shop: the webhooks that arrive while the
	// channel's fetch runs share the next one's search, so the burst costs
	// fewer order reads than orders.
	reads := func() int {
		c := h.Sim.RequestStats().ByRoute
		return c["GET /api/v2/orders/{id}"] + c["GET /api/v2/orders/search"]
	}
	readsBefore, handedBefore := reads(), webhookOutcome(t, h, "fetched")+webhookOutcome(t, h, "signalled")
	var burst []int64
	for range 10 {
		burst = append(burst, h.Sim.CreateOrder(ekmsim.OrderSpec{Status: "Processing"}).ID)
	}
	h.Eventually(30*time.Second, "the burst's orders in the hub", func() bool {
		hub := hubOrders(t, h)
		for _, id := range burst {
			if _, ok := hub[id]; !ok {
				return false
			}
		}
		return true
	})
	h.Eventually(10*time.Second, "the burst's webhooks answered", func() bool {
		return webhookOutcome(t, h, "fetched")+webhookOutcome(t, h, "signalled") == handedBefore+len(burst)
	})
	r := reads() - readsBefore
	t.Logf("%d orders webhooked at once: %d order reads", len(burst), r)
	if r >= len(burst) {
		t.Fatalf("%d orders webhooked at once cost %d order reads, want fewer: webhooks arriving during a fetch should share the next", len(burst), r)
	}
}

// webhookOutcome reads ekmsync_webhooks_total{outcome} from the worker's /metrics.
func webhookOutcome(t *testing.T, h *harness.Env, outcome string) int {
	t.Helper()
	series := `ekmsync_webhooks_total{outcome="` + outcome + `"}`
	v := sampleValue(scrapeText(t, "http://"+string(h.WorkerConfig.AdminAddr)+"/metrics"), series)
	if v < 0 {
		t.Fatalf("/metrics has no %s", series)
	}
	return int(v)
}
