package ekmsim

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ekmsync/ekmsync/internal/ekm"
)

// admin is a client of the /admin API: no token.
func admin(t *testing.T, sim *Sim) *tclient { return &tclient{t: t, hc: memClient(sim)} }

// decode decodes a plain JSON body.
func decode[T any](t *testing.T, r *response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("decoding %s: %v", r.body, err)
	}
	return v
}

func TestAdminCreateAndPatchOrder(t *testing.T) {
	sim := New(smallShop())
	defer sim.Close()
	a, api := admin(t, sim), newClient(t, sim)
	_, plain := productWithVariants(t, sim)

	spec := `{"status":"processing","payment_status":"SUCCESS","transaction_id":"","order_date":"2026-01-02T03:04:05Z",
		"lines":[{"product_code":"` + plain.ProductCode + `","quantity":2},{"product_code":"GHOST-1","price":5}]}`
	o := decode[ekm.Order](t, a.do(http.MethodPost, "/admin/orders", spec).want(t, http.StatusCreated))
	if o.ID != 81 || o.Status != "PROCESSING" || o.PaymentStatus != "SUCCESS" || o.TransactionID != "" || o.Paid() ||
		!o.OrderDate.Equal(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Errorf("created order %+v", o)
	}
	st := decode[OrderState](t, a.get("/admin/orders/81").want(t, http.StatusOK))
	if len(st.Items) != 2 || st.Items[0].ProductID != plain.ID || st.Items[0].Quantity != 2 || st.Items[0].ItemPrice != plain.Price ||
		st.Items[1].ProductID != 0 || st.Items[1].ProductCode != "GHOST-1" || st.Items[1].ItemPrice != 5 || st.Items[1].Quantity != 1 {
		t.Errorf("created lines %+v", st.Items)
	}
	if got := data[ekm.Order](t, api.get("/api/v2/orders/81").want(t, http.StatusOK)); got.OrderNumber != o.OrderNumber {
		t.Error("the created order is not served by the API")
	}

	p := decode[ekm.Order](t, a.do(http.MethodPatch, "/admin/orders/81", `{"status":"dispatched","payment_status":"failed","transaction_status":"FAILED : declined"}`).want(t, http.StatusOK))
	if p.Status != "DISPATCHED" || p.PaymentStatus != "FAILED" || p.TransactionStatus != "FAILED : declined" || p.IsConfirmed {
		t.Errorf("patched order %+v", p)
	}
	a.do(http.MethodPatch, "/admin/orders/9999", `{"status":"x"}`).want(t, http.StatusNotFound)
	a.do(http.MethodPost, "/admin/orders", `{"stauts":"typo"}`).want(t, http.StatusBadRequest)
	a.get("/admin/orders/9999").want(t, http.StatusNotFound)

	// Defaults: PENDING, paid, random catalogue lines, now.
	d := sim.CreateOrder(OrderSpec{})
	items, _ := sim.OrderItems(d.ID)
	if d.Status != "PENDING" || !d.Paid() || len(items) == 0 {
		t.Errorf("default order %+v with %d lines", d, len(items))
	}
}

func TestAdminProducts(t *testing.T) {
	sim := New(smallShop())
	defer sim.Close()
	a, api := admin(t, sim), newClient(t, sim)
	p := decode[ekm.Product](t, a.do(http.MethodPost, "/admin/products",
		`{"name":"Test Lamp","product_code":"LAMP-1","price":25,"variants":[{"dimension":"Colour","choice":"Red","product_code":"LAMP-1-R","stock":3},{"choice":"Blue"}]}`).
		want(t, http.StatusCreated))
	if p.Name != "Test Lamp" || p.ProductCode != "LAMP-1" || p.Price != 25 || len(p.Variants) != 2 || p.Variants[0].ProductCode != "LAMP-1-R" ||
		p.Variants[0].NumberInStock != 3 || p.Variants[0].ID != p.ID+1 || p.Variants[1].VariantCombinations[0].VariantChoice != "Blue" || p.NumberInStock != 0 {
		t.Fatalf("created product %+v", p)
	}
	got := data[[]ekm.Product](t, api.get("/api/v1/products/search?query="+urlQuery("product_code eq 'LAMP-1'")).want(t, http.StatusOK))
	if len(got) != 1 || got[0].ID != p.ID {
		t.Errorf("created product not found by SKU: %v", got)
	}

	vid := p.Variants[1].ID
	u := decode[ekm.Product](t, a.do(http.MethodPatch, "/admin/products/"+itoa(p.ID),
		`{"price":30,"live":false,"variants":[{"id":`+itoa(vid)+`,"stock":8}]}`).want(t, http.StatusOK))
	if u.Price != 30 || u.Live || u.Variants[1].NumberInStock != 8 || u.TotalProductStock != 11 {
		t.Errorf("patched product %+v", u)
	}
	u = decode[ekm.Product](t, a.do(http.MethodPatch, "/admin/products/"+itoa(vid), `{"price":31.5}`).want(t, http.StatusOK))
	if u.ID != p.ID || u.Variants[1].Price != 31.5 {
		t.Errorf("patching a variant by id should return its parent with the change: %+v", u)
	}
	if v := decode[ekm.Variant](t, a.get("/admin/products/"+itoa(vid)).want(t, http.StatusOK)); v.Price != 31.5 || v.ParentProductID != p.ID {
		t.Errorf("GET /admin/products/{variant} %+v", v)
	}
	a.do(http.MethodPatch, "/admin/products/"+itoa(p.ID), `{"variants":[{"id":1}]}`).want(t, http.StatusNotFound)

	a.do(http.MethodDelete, "/admin/products/"+itoa(vid), nil).want(t, http.StatusNoContent)
	if left, _ := sim.Product(p.ID); len(left.Variants) != 1 {
		t.Errorf("after deleting a variant the product has %d", len(left.Variants))
	}
	a.do(http.MethodDelete, "/admin/products/"+itoa(p.ID), nil).want(t, http.StatusNoContent)
	api.get("/api/v1/products/"+itoa(p.ID)).want(t, http.StatusNotFound)
	api.get("/api/v1/products/"+itoa(p.ID+1)).want(t, http.StatusNotFound)
	a.do(http.MethodDelete, "/admin/products/"+itoa(p.ID), nil).want(t, http.StatusNotFound)
	if n := api.get("/api/v1/products").listMeta(t).ItemsTotal; n != 60 {
		t.Errorf("%d products listed after create and delete, want 60", n)
	}
}

func TestAdminWritesAndRequests(t *testing.T) {
	sim := New(smallShop())
	defer sim.Close()
	a, api := admin(t, sim), newClient(t, sim)
	api.put("/api/v2/orders/2/status", ekm.OrderStatusUpdate{Status: "Complete"}).want(t, http.StatusOK)
	api.put("/api/v2/orders/3/internalNotes", ekm.InternalNotes{Notes: "x"}).want(t, http.StatusOK)
	api.get("/api/v2/orders/2").want(t, http.StatusOK)
	api.get("/api/v2/orders/2").want(t, http.StatusOK)

	ws := decode[[]Write](t, a.get("/admin/writes?order_id=2").want(t, http.StatusOK))
	if len(ws) != 1 || ws[0].Kind != KindOrderStatus || ws[0].Path != "/api/v2/orders/2/status" || !strings.Contains(string(ws[0].Body), "Complete") {
		t.Errorf("writes for order 2: %+v", ws)
	}
	if ws := decode[[]Write](t, a.get("/admin/writes?kind=order.notes").want(t, http.StatusOK)); len(ws) != 1 || ws[0].OrderID != 3 {
		t.Errorf("notes writes: %+v", ws)
	}
	if body := a.get("/admin/writes?product_id=1").want(t, http.StatusOK).body; string(body) != "[]" {
		t.Errorf("no writes should be [] not %s", body)
	}
	a.get("/admin/writes?order_id=two").want(t, http.StatusBadRequest)

	st := decode[RequestStats](t, a.get("/admin/requests").want(t, http.StatusOK))
	if st.ByRoute["GET /api/v2/orders/{id}"] != 2 || st.ByRoute["PUT /api/v2/orders/{id}/status"] != 1 || st.ByStatus["200"] != 4 || st.RateLimited != 0 {
		t.Errorf("request stats %+v", st)
	}
	for route := range st.ByRoute {
		if strings.HasPrefix(route, "GET /admin") {
			t.Errorf("admin route %s is counted", route)
		}
	}
	a.do(http.MethodPost, "/admin/reset", nil).want(t, http.StatusNoContent)
	if st := sim.RequestStats(); len(st.ByRoute) != 0 || len(sim.Writes(WriteFilter{})) != 0 {
		t.Errorf("after reset: %+v and %d writes", st, len(sim.Writes(WriteFilter{})))
	}
}

func TestAdminSettings(t *testing.T) {
	sim := New(smallShop())
	defer sim.Close()
	a, api := admin(t, sim), newClient(t, sim)

	f := decode[Faults](t, a.put("/admin/faults", `{"server_error":1,"latency":0.5,"latency_duration":"250ms"}`).want(t, http.StatusOK))
	if f.ServerError != 1 || f.LatencyDuration != 250*time.Millisecond || sim.Faults() != f {
		t.Errorf("faults %+v", f)
	}
	if r := api.get("/api/v1/settings/currency"); r.status < 500 {
		t.Errorf("with server_error 1 the API answered %d", r.status)
	}
	a.put("/admin/faults", `{}`).want(t, http.StatusOK)
	a.put("/admin/faults", `{"latency_duration":"soon"}`).want(t, http.StatusBadRequest)

	if rl := decode[RateLimit](t, a.put("/admin/ratelimit", `{"bucket_size":2,"leak_per_second":0.5}`).want(t, http.StatusOK)); rl != (RateLimit{2, 0.5}) {
		t.Errorf("rate limit %+v", rl)
	}
	a.do(http.MethodPost, "/admin/reset", nil).want(t, http.StatusNoContent)
	api.get("/api/v1/settings/currency").want(t, http.StatusOK)
	api.get("/api/v1/settings/currency").want(t, http.StatusOK)
	api.get("/api/v1/settings/currency").want(t, http.StatusTooManyRequests)
	a.put("/admin/ratelimit", `{"bucket_size":1000,"leak_per_second":1000}`).want(t, http.StatusOK)
	for range 50 {
		a.get("/admin/requests").want(t, http.StatusOK) // admin is never rate limited
	}

	a.put("/admin/statuses", `{"statuses":[{"name":"New","colour":"#111111","show_in_quick_stats":true},{"name":"Shipped","colour":"#222222"}]}`).want(t, http.StatusOK)
	sts := data[ekm.OrderStatuses](t, api.get("/api/v1/settings/orderstatuses").want(t, http.StatusOK))
	if len(sts.Statuses) != 2 || sts.Statuses[1].Name != "Shipped" {
		t.Errorf("statuses %+v", sts)
	}
	api.put("/api/v2/orders/1/status", ekm.OrderStatusUpdate{Status: "shipped"}).want(t, http.StatusOK)
	api.put("/api/v2/orders/1/status", ekm.OrderStatusUpdate{Status: "Dispatched"}).want(t, http.StatusBadRequest)

	a.put("/admin/currency", `{"currency_code":"EUR","country_code":"IE","currency_symbol":"€","current_html_symbol":"&euro;"}`).want(t, http.StatusOK)
	r := api.get("/api/v1/settings/currency").want(t, http.StatusOK)
	if cur := data[ekm.CurrencySettings](t, r); cur.CurrencyCode != "EUR" || cur.CurrentHTMLSymbol != "&euro;" || !strings.Contains(string(r.body), `"&euro;"`) {
		t.Errorf("currency %s", r.body)
	}
}

func TestAdminTokensAndRevoke(t *testing.T) {
	sim := New(smallShop())
	defer sim.Close()
	a := admin(t, sim)
	tr := decode[ekm.TokenResponse](t, a.do(http.MethodPost, "/admin/tokens", nil).want(t, http.StatusOK))
	api := &tclient{t: t, hc: memClient(sim), token: tr.AccessToken}
	api.get("/api/v2/orders").want(t, http.StatusOK)
	if tr.RefreshToken == "" || tr.ExpiresIn != 3600 {
		t.Errorf("admin tokens %+v", tr)
	}
	a.do(http.MethodPost, "/admin/revoke", nil).want(t, http.StatusNoContent)
	api.get("/api/v2/orders").want(t, http.StatusUnauthorized)
	wantTokenError(t, postForm(t, api.hc, "/connect/token", tokenForm("refresh_token", "refresh_token", tr.RefreshToken)), "invalid_grant")
}
