package service

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/flows"
	"github.com/ekmsync/ekmsync/internal/store"
	"github.com/ekmsync/ekmsync/internal/store/storetest"
	"github.com/ekmsync/ekmsync/internal/temporaltest"
	"github.com/ekmsync/ekmsync/internal/webhook"
)

// outcomeCounter collects the receiver's outcomes, as /metrics would.
type outcomeCounter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *outcomeCounter) add(o string) { c.mu.Lock(); c.n[o]++; c.mu.Unlock() }
func (c *outcomeCounter) get(o string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[o]
}

type receiverEnv struct {
	db       *storetest.DB
	channel  channel.Settings
	token    string
	srv      *httptest.Server
	outcomes *outcomeCounter
	loads    *int
}

// newReceiverEnv stores a channel of shop "demo-shop" with a token, and serves a
// receiver for it the way the worker's public listener does. The Temporal
// server runs no order sync, so a hint that gets through is "signalled" to a
// loop that does not run: the outcome shows it.
func newReceiverEnv(t *testing.T, db *storetest.DB) *receiverEnv {
	t.Helper()
	ctx := context.Background()
	e := &receiverEnv{db: db, outcomes: &outcomeCounter{n: map[string]int{}}, loads: new(int)}
	s, err := db.Store.Channel(ctx, "shop")
	if err != nil {
		s = channel.Defaults()
		s.Name, s.APIBaseURL, s.ClientID, s.RedirectURL, s.Currency = "shop", "https://api.ekm.net", "cid", "http://127.0.0.1:8765/callback", "GBP"
		if s, err = db.Store.CreateChannel(ctx, s, func(int64) []byte { return []byte("sealed") }, "test"); err != nil {
			t.Fatal(err)
		}
		if err := db.Store.SetShopUsername(ctx, s.ID, "demo-shop"); err != nil {
			t.Fatal(err)
		}
		token, hash := webhook.NewToken()
		if err := db.Store.SetWebhookToken(ctx, s.ID, hash, webhook.Redacted("https://sync.example.com", s.Name)); err != nil {
			t.Fatal(err)
		}
		e.token = token
	}
	e.channel = s
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	wf := flows.Starter{Client: temporaltest.Client(t), TaskQueue: "ekmsync-receiver-test"}
	recv := newReceiver(db.Store, wf, logger, e.outcomes.add)
	load := recv.receivers.load
	recv.receivers.load = func(ctx context.Context) ([]store.WebhookReceiver, error) { *e.loads++; return load(ctx) }
	mux := http.NewServeMux()
	mux.Handle("POST "+webhook.PathPrefix+"{channel}/{token}", recv)
	mux.HandleFunc(webhook.PathPrefix, recv.refuse)
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	return e
}

func (e *receiverEnv) post(t *testing.T, path, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(e.srv.URL+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func event(user, topic string, id int64) string {
	return fmt.Sprintf(`{"username":%q,"topic":%q,"entity_id":%d}`, user, topic, id)
}

// A missing or wrong token, another shop's username and an unknown channel get
// the same answer, and none of them is handed to the order sync or recorded in
// PostgreSQL; a body over the limit gets 413 naming it, another topic 400.
func TestReceiverRefusesForgedWebhooksLikeAnUnknownChannel(t *testing.T) {
	e := newReceiverEnv(t, storetest.New(t))
	path := webhook.PathPrefix + "shop/" + e.token
	wantStatus, wantBody := e.post(t, webhook.PathPrefix+"nosuch/"+e.token, event("demo-shop", "order.created", 5))
	if wantStatus != http.StatusNotFound {
		t.Fatalf("unknown channel: %d %q", wantStatus, wantBody)
	}
	for name, c := range map[string]struct{ path, body string }{
		"no token":        {webhook.PathPrefix + "shop", event("demo-shop", "order.created", 5)},
		"empty token":     {webhook.PathPrefix + "shop/", event("demo-shop", "order.created", 5)},
		"wrong token":     {webhook.PathPrefix + "shop/" + strings.ToUpper(e.token), event("demo-shop", "order.created", 5)},
		"extra segment":   {path + "/more", event("demo-shop", "order.created", 5)},
		"other username":  {path, event("other-shop", "order.created", 5)},
		"empty username":  {path, event("", "order.created", 5)},
		"huge, no token":  {webhook.PathPrefix + "shop", event("demo-shop", strings.Repeat("t", 63<<10), 5)},
		"channel unknown": {webhook.PathPrefix + "other/" + e.token, event("demo-shop", "order.created", 5)},
	} {
		if st, body := e.post(t, c.path, c.body); st != wantStatus || body != wantBody {
			t.Errorf("%s: %d %q, want %d %q", name, st, body, wantStatus, wantBody)
		}
	}
	if st, body := e.post(t, path, event("demo-shop", strings.Repeat("t", 63<<10), 5)); st != http.StatusRequestEntityTooLarge || !strings.Contains(body, "4096 bytes") {
		t.Errorf("huge body with the token: %d %q", st, body)
	}
	for _, topic := range []string{"order.deleted", "", "customer.created"} {
		if st, _ := e.post(t, path, event("demo-shop", topic, 5)); st != http.StatusBadRequest {
			t.Errorf("topic %q: %d, want 400", topic, st)
		}
	}
	if st, _ := e.post(t, path, `{"username":"demo-shop","topic":"order.created","entity_id":-3}`); st != http.StatusBadRequest {
		t.Errorf("negative id: %d", st)
	}
	var rows int
	if err := e.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM webhook_hints`).Scan(&rows); err != nil || rows != 0 {
		t.Fatalf("webhook_hints holds %d rows after forged webhooks (%v)", rows, err)
	}
	if n := e.outcomes.get("signalled"); n != 0 {
		t.Fatalf("%d forged webhooks reached the order sync", n)
	}
	// The genuine one gets through, with the shop's name in any case.
	if st, body := e.post(t, path, event("DEMO-shop", "order.updated", 5)); st != http.StatusAccepted || e.outcomes.get("signalled") != 1 {
		t.Fatalf("genuine webhook: %d %q, signalled %d", st, body, e.outcomes.get("signalled"))
	}
}

// A flood of forged webhooks with distinct channel names and tokens costs
// PostgreSQL at most one read of the channels a second.
func TestReceiverFloodOfForgedWebhooksSparesPostgreSQL(t *testing.T) {
	e := newReceiverEnv(t, storetest.New(t))
	start := time.Now()
	for i := range 1000 {
		e.post(t, fmt.Sprintf("%sch%d/tok%d", webhook.PathPrefix, i, i), event("demo-shop", "order.created", int64(i+1)))
		e.post(t, fmt.Sprintf("%sshop/tok%d", webhook.PathPrefix, i), event("demo-shop", "order.created", int64(i+1)))
	}
	seconds := int(time.Since(start)/time.Second) + 1
	if *e.loads > seconds+1 {
		t.Fatalf("2000 forged webhooks in %d s read the channels %d times, want at most one a second", seconds, *e.loads)
	}
	if n := e.outcomes.get("refused"); n != 2000 {
		t.Fatalf("refused %d of 2000", n)
	}
}

// Two receivers (two worker processes) on one hub hand each order id to the
// loop once, however many duplicates arrive at both at once; a channel gets at
// most PerMinute hints a minute; an id EKM answered "not found" is not handed
// over again.
func TestReceiverDeduplicatesAndBoundsHintsAcrossProcesses(t *testing.T) {
	db := storetest.New(t)
	a := newReceiverEnv(t, db)
	b := newReceiverEnv(t, db)
	b.token = a.token
	path := webhook.PathPrefix + "shop/" + a.token
	var wg sync.WaitGroup
	for i := range 200 {
		env := a
		if i%2 == 1 {
			env = b
		}
		wg.Go(func() {
			if st, body := env.post(t, path, event("demo-shop", "order.created", int64(100+i%10))); st != http.StatusAccepted {
				t.Errorf("duplicate: %d %q", st, body)
			}
		})
	}
	wg.Wait()
	if n := a.outcomes.get("signalled") + b.outcomes.get("signalled"); n != 10 {
		t.Fatalf("200 webhooks for 10 orders over two receivers signalled %d times, want 10", n)
	}
	ctx := context.Background()
	if err := db.Store.MarkHintsNotFound(ctx, a.channel.ID, []int64{999}, store.HintNotFoundFor); err != nil {
		t.Fatal(err)
	}
	a.post(t, path, event("demo-shop", "order.created", 999))
	if n := a.outcomes.get("signalled"); n+b.outcomes.get("signalled") != 10 {
		t.Fatal("an id EKM answered not found was handed over again")
	}
	for i := range store.DefaultHintLimits.PerMinute + 20 {
		a.post(t, path, event("demo-shop", "order.created", int64(1000+i)))
	}
	if n := a.outcomes.get("signalled") + b.outcomes.get("signalled"); n != store.DefaultHintLimits.PerMinute {
		t.Fatalf("signalled %d hints within a minute, want the limit %d", n, store.DefaultHintLimits.PerMinute)
	}
}
