package ekmsim

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ekmsync/ekmsync/internal/ekm"
)

func TestStartServesOverTCPAndCloseStops(t *testing.T) {
	sim := New(smallShop())
	send, base := startTCP(t, sim)
	if !strings.HasPrefix(base, "http://127.0.0.1:") {
		t.Errorf("URL %q", base)
	}
	resp, err := send(http.MethodGet, "/api/v2/orders/1", "")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("X-EKM-RateLimit-Remaining") != "39" || !strings.Contains(string(b), `"id":1`) {
		t.Errorf("over TCP: %d %s", resp.StatusCode, b)
	}
	sim.Close()
	if _, err := http.Get(base + "/admin/requests"); err == nil {
		t.Error("the server still answers after Sim.Close")
	}
	if _, err := sim.Start("127.0.0.1:0"); err == nil {
		t.Error("Start after Close should fail")
	}
}

func TestStartOnAllInterfacesGivesADialableURL(t *testing.T) {
	sim := New(Options{Seed: 1})
	defer sim.Close()
	srv, err := sim.Start(":0")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(srv.URL() + "/admin/requests")
	if err != nil {
		t.Fatalf("GET %s: %v", srv.URL(), err)
	}
	resp.Body.Close()
}

func TestOrdersKeepArriving(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rc := &receiver{}
		o := smallShop()
		o.OrderEvery = 30 * time.Second
		o.WebhookClient = &http.Client{Transport: memTransport{rc}}
		sim := New(o)
		defer sim.Close()
		subscribe(t, newClient(t, sim), ekm.TopicOrderCreated)
		sim.StartJobs()
		sim.StartJobs() // idempotent: still one arrival loop
		time.Sleep(95 * time.Second)
		synctest.Wait()
		orders := sim.Orders()
		if len(orders) != 83 {
			t.Fatalf("%d orders after 95 s, want 80 + 3", len(orders))
		}
		newest := orders[82]
		items, _ := sim.OrderItems(newest.ID)
		if !newest.OrderDate.Equal(time.Now().Add(-5*time.Second)) || len(items) == 0 ||
			(newest.Status != "PENDING" && newest.Status != "PROCESSING") {
			t.Errorf("arrived order %+v with %d lines", newest, len(items))
		}
		if n := len(rc.got()); n != 3 {
			t.Errorf("%d order.created webhooks, want 3", n)
		}
	})
}
