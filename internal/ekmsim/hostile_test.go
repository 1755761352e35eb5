package ekmsim

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/ekmsync/ekmsync/internal/ekm"
)

// The admin API can withdraw bad data: edit an order's lines (totals follow)
// or delete the order; and it counts API requests per client.
func TestAdminEditsOrderLinesDeletesOrdersAndCountsPerClient(t *testing.T) {
	sim := New(smallShop())
	defer sim.Close()
	a, api := admin(t, sim), newClient(t, sim)
	o := sim.CreateOrder(OrderSpec{Lines: []LineSpec{{ProductCode: "X-1", Quantity: 1 << 31, Name: "Mug\x00"}}})
	api.get("/api/v2/orders/"+itoa(o.ID)+"/items").want(t, http.StatusOK)

	fixed := decode[ekm.Order](t, a.put("/admin/orders/"+itoa(o.ID)+"/lines", `[{"product_code":"X-1","quantity":2,"price":5}]`).want(t, http.StatusOK))
	items, _ := sim.OrderItems(o.ID)
	if len(items) != 1 || items[0].Quantity != 2 || items[0].ItemName != "Unlisted item" || fixed.SubTotal != 10 ||
		!fixed.LastUpdated.After(o.LastUpdated.Time) {
		t.Errorf("after the edit: order %+v, items %+v", fixed, items)
	}
	a.put("/admin/orders/9999/lines", `[]`).want(t, http.StatusNotFound)

	a.do(http.MethodDelete, "/admin/orders/"+itoa(o.ID), nil).want(t, http.StatusNoContent)
	api.get("/api/v2/orders/"+itoa(o.ID)).want(t, http.StatusNotFound)
	a.do(http.MethodDelete, "/admin/orders/"+itoa(o.ID), nil).want(t, http.StatusNotFound)

	stats := decode[RequestStats](t, a.get("/admin/requests").want(t, http.StatusOK))
	if stats.ByClient[defaultClientID] != 2 {
		t.Errorf("requests by client = %v, want 2 for %s", stats.ByClient, defaultClientID)
	}
}

// A hostile shop repeats its first page forever, or one stale page once, and
// can ask for an absurd Retry-After.
func TestHostileShopRepeatsPagesAndAsksAbsurdRetryAfter(t *testing.T) {
	sim := New(smallShop())
	defer sim.Close()
	a, api := admin(t, sim), newClient(t, sim)
	page1 := api.get("/api/v1/products?page=1&limit=5").want(t, http.StatusOK).body
	page2 := api.get("/api/v1/products?page=2&limit=5").want(t, http.StatusOK).body

	a.put("/admin/hostile", `{"repeat_page":true}`).want(t, http.StatusOK)
	first := api.get("/api/v1/products?page=1&limit=5").want(t, http.StatusOK).body
	for _, n := range []string{"2", "3", "4"} {
		if got := api.get("/api/v1/products?page="+n+"&limit=5").want(t, http.StatusOK).body; !bytes.Equal(got, first) {
			t.Fatalf("page %s is not the repeated first page", n)
		}
	}

	a.put("/admin/hostile", `{"stale_pages":1}`).want(t, http.StatusOK)
	api.get("/api/v1/products?page=1&limit=5").want(t, http.StatusOK)
	if got := api.get("/api/v1/products?page=2&limit=5").want(t, http.StatusOK).body; !bytes.Equal(got, page1) {
		t.Error("the stale page is not the previous answer")
	}
	if got := api.get("/api/v1/products?page=2&limit=5").want(t, http.StatusOK).body; !bytes.Equal(got, page2) {
		t.Error("the shop stays stale after one stale page")
	}

	a.put("/admin/hostile", `{"retry_after":"1000000"}`).want(t, http.StatusOK)
	sim.SetRateLimit(1, 0.001)
	var r *response
	for range 3 {
		if r = api.get("/api/v1/products?page=1&limit=1"); r.status == http.StatusTooManyRequests {
			break
		}
	}
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != "1000000" {
		t.Errorf("429 %d with Retry-After %q, want 1000000", r.status, r.header.Get("Retry-After"))
	}
	if h := decode[Hostile](t, a.get("/admin/hostile").want(t, http.StatusOK)); !strings.Contains(h.RetryAfter, "1000000") {
		t.Errorf("GET /admin/hostile = %+v", h)
	}
}
