package ekmsim

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ekmsync/ekmsync/internal/ekm"
)

// receiver is a webhook endpoint that records every attempt and answers
// with the statuses of script in turn (then 200), optionally after a delay.
type receiver struct {
	mu       sync.Mutex
	script   []int
	delay    time.Duration // applied to the first attempt only
	attempts []attempt
}

type attempt struct {
	at    time.Time
	event ekm.WebhookEvent
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	var ev ekm.WebhookEvent
	_ = json.Unmarshal(b, &ev)
	rc.mu.Lock()
	n := len(rc.attempts)
	rc.attempts = append(rc.attempts, attempt{at: time.Now(), event: ev})
	status := http.StatusOK
	if n < len(rc.script) {
		status = rc.script[n]
	}
	delay := rc.delay
	rc.mu.Unlock()
	if n == 0 && delay > 0 {
		time.Sleep(delay)
	}
	w.WriteHeader(status)
}

func (rc *receiver) got() []attempt {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]attempt(nil), rc.attempts...)
}

// hookedSim is a shop whose webhooks reach rc in memory.
func hookedSim(rc *receiver, dupRate float64) *Sim {
	o := smallShop()
	o.WebhookClient = &http.Client{Transport: memTransport{rc}}
	o.WebhookDuplicateRate = dupRate
	return New(o)
}

// subscribe adds an enabled subscription through the API.
func subscribe(t *testing.T, c *tclient, topic string) ekm.WebhookSubscription {
	t.Helper()
	return data[ekm.WebhookSubscription](t, c.do(http.MethodPost, "/api/v2/Webhooks",
		ekm.AddWebhook{Topic: topic, Endpoint: "http://hooks.test/ekm", IsEnabled: true}).want(t, http.StatusCreated))
}

func TestWebhookRetriesWithBackoffUntil200(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rc := &receiver{script: []int{500, 503}}
		sim := hookedSim(rc, 0)
		defer sim.Close()
		subscribe(t, newClient(t, sim), ekm.TopicOrderCreated)
		start := time.Now()
		o := sim.CreateOrder(OrderSpec{})
		time.Sleep(time.Minute)
		synctest.Wait()
		got := rc.got()
		if len(got) != 3 {
			t.Fatalf("%d attempts, want 2 failures and a success", len(got))
		}
		wantAt := []time.Duration{0, 200 * time.Millisecond, 594 * time.Millisecond}
		for i, a := range got {
			if a.at.Sub(start) != wantAt[i] {
				t.Errorf("attempt %d at %v, want %v", i+1, a.at.Sub(start), wantAt[i])
			}
			if a.event != (ekm.WebhookEvent{Username: defaultShopUsername, Topic: ekm.TopicOrderCreated, EntityID: o.ID}) {
				t.Errorf("attempt %d event %+v", i+1, a.event)
			}
		}
	})
}

func TestWebhookGivesUpAfterTwentyRetries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		script := make([]int, 100)
		for i := range script {
			script[i] = http.StatusInternalServerError
		}
		rc := &receiver{script: script}
		sim := hookedSim(rc, 0)
		defer sim.Close()
		subscribe(t, newClient(t, sim), ekm.TopicOrderCreated)
		start := time.Now()
		sim.CreateOrder(OrderSpec{})
		time.Sleep(100 * time.Hour)
		synctest.Wait()
		got := rc.got()
		if len(got) != 21 {
			t.Fatalf("%d attempts, want 1 + 20 retries", len(got))
		}
		if last := got[20].at.Sub(start); last < 40*time.Hour || last > 50*time.Hour {
			t.Errorf("last retry after %v; 200 ms x 1.97^n over 20 retries sums to about 44 h", last)
		}
		if gap := got[20].at.Sub(got[19].at); gap != webhookDelay(20) || gap < 21*time.Hour {
			t.Errorf("last gap %v, want 200 ms x 1.97^19 (about 21 h)", gap)
		}
	})
}

func TestWebhookWaitsFiveSecondsThenRetries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rc := &receiver{delay: 6 * time.Second}
		sim := hookedSim(rc, 0)
		defer sim.Close()
		subscribe(t, newClient(t, sim), ekm.TopicOrderCreated)
		start := time.Now()
		sim.CreateOrder(OrderSpec{})
		time.Sleep(time.Minute)
		synctest.Wait()
		got := rc.got()
		if len(got) != 2 || got[1].at.Sub(start) != 5*time.Second+200*time.Millisecond {
			t.Fatalf("attempts %v, want a retry at 5.2 s after a 6 s answer timed out", got)
		}
	})
}

func TestWebhookDuplicatesAndTopics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rc := &receiver{}
		sim := hookedSim(rc, 1)
		defer sim.Close()
		c := newClient(t, sim)
		subscribe(t, c, ekm.TopicOrderUpdated)
		o := sim.CreateOrder(OrderSpec{}) // no order.created subscription
		time.Sleep(time.Second)
		synctest.Wait()
		if n := len(rc.got()); n != 0 {
			t.Fatalf("%d deliveries for an unsubscribed topic", n)
		}
		c.put("/api/v2/orders/"+itoa(o.ID)+"/status", map[string]any{"status": "Dispatched"}).want(t, http.StatusOK)
		time.Sleep(time.Second)
		synctest.Wait()
		got := rc.got()
		if len(got) != 2 {
			t.Fatalf("%d deliveries, want the event twice at duplicate rate 1", len(got))
		}
		for _, a := range got {
			if a.event.Topic != ekm.TopicOrderUpdated || a.event.EntityID != o.ID {
				t.Errorf("event %+v, want order.updated for %d", a.event, o.ID)
			}
		}
	})
}

func TestWebhooksWithoutDuplicatesByDefault(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rc := &receiver{}
		sim := hookedSim(rc, 0)
		defer sim.Close()
		subscribe(t, newClient(t, sim), ekm.TopicOrderCreated)
		for range 30 {
			sim.CreateOrder(OrderSpec{})
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if n := len(rc.got()); n != 30 {
			t.Errorf("%d deliveries for 30 orders, want 30", n)
		}
	})
}

func TestCloseStopsWebhookRetries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rc := &receiver{script: make([]int, 100)}
		for i := range rc.script {
			rc.script[i] = http.StatusBadGateway
		}
		sim := hookedSim(rc, 0)
		subscribe(t, newClient(t, sim), ekm.TopicOrderCreated)
		sim.CreateOrder(OrderSpec{})
		time.Sleep(2 * time.Second)
		before := len(rc.got())
		sim.Close() // synctest.Test fails if a delivery goroutine outlives this
		time.Sleep(100 * time.Hour)
		if after := len(rc.got()); after != before || before == 0 {
			t.Errorf("attempts went from %d to %d after Close", before, after)
		}
		sim.CreateOrder(OrderSpec{}) // after Close nothing is delivered, nothing leaks
	})
}

func TestWebhookSubscriptionCRUD(t *testing.T) {
	sim := New(smallShop())
	defer sim.Close()
	c := newClient(t, sim)
	sub := subscribe(t, c, ekm.TopicOrderCreated)
	if sub.ID == "" || sub.MerchantUsername != defaultShopUsername || sub.ClientID != defaultClientID || !sub.IsEnabled {
		t.Errorf("created subscription %+v", sub)
	}
	path := "/api/v2/Webhooks/" + sub.ID
	if got := data[ekm.WebhookSubscription](t, c.get(path).want(t, http.StatusOK)); got != sub {
		t.Errorf("GET %+v, want %+v", got, sub)
	}
	upd := data[ekm.WebhookSubscription](t, c.put(path, ekm.AddWebhook{Topic: ekm.TopicOrderUpdated, Endpoint: "https://x.test/h", IsEnabled: false}).want(t, http.StatusOK))
	if upd.Topic != ekm.TopicOrderUpdated || upd.Endpoint != "https://x.test/h" || upd.IsEnabled || upd.ID != sub.ID {
		t.Errorf("updated %+v", upd)
	}
	list := c.get("/api/v2/Webhooks/webhooks").want(t, http.StatusOK)
	if got := data[[]ekm.WebhookSubscription](t, list); len(got) != 1 || got[0] != upd {
		t.Errorf("list %+v", got)
	}
	c.do(http.MethodDelete, path, nil).want(t, http.StatusOK)
	c.get(path).wantValidation(t, http.StatusNotFound, []string{"id"}, "Subscription '"+sub.ID+"' not found.")
	c.do(http.MethodDelete, path, nil).want(t, http.StatusNotFound)

	c.do(http.MethodPost, "/api/v2/Webhooks", ekm.AddWebhook{Topic: "order.deleted", Endpoint: "https://x.test/h"}).
		wantValidation(t, http.StatusBadRequest, []string{"topic"}, "The topic 'order.deleted' is not supported.")
	c.do(http.MethodPost, "/api/v2/Webhooks", ekm.AddWebhook{Topic: ekm.TopicOrderCreated, Endpoint: "/relative"}).
		wantValidation(t, http.StatusBadRequest, []string{"endpoint"}, "The endpoint must be an absolute http or https URL.")

	kinds := []string{}
	for _, w := range sim.Writes(WriteFilter{}) {
		kinds = append(kinds, w.Kind)
	}
	if len(kinds) != 3 || kinds[0] != KindWebhookCreate || kinds[1] != KindWebhookUpdate || kinds[2] != KindWebhookDelete {
		t.Errorf("write kinds %v", kinds)
	}
}

func TestWebhookDeliveredOverTheNetwork(t *testing.T) {
	got := make(chan ekm.WebhookEvent, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev ekm.WebhookEvent
		if err := json.NewDecoder(r.Body).Decode(&ev); err == nil && r.Header.Get("Content-Type") == "application/json" {
			got <- ev
		}
	}))
	defer srv.Close()
	sim := New(smallShop())
	defer sim.Close()
	c := newClient(t, sim)
	c.do(http.MethodPost, "/api/v2/Webhooks", ekm.AddWebhook{Topic: ekm.TopicOrderCreated, Endpoint: srv.URL + "/hook", IsEnabled: true}).want(t, http.StatusCreated)
	o := sim.CreateOrder(OrderSpec{})
	select {
	case ev := <-got:
		if ev.EntityID != o.ID || ev.Username != defaultShopUsername {
			t.Errorf("event %+v for order %d", ev, o.ID)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no webhook within 10 s")
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
