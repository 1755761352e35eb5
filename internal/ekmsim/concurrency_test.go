package ekmsim

import (
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/ekmsync/ekmsync/internal/ekm"
)

// TestConcurrentUse mixes API reads, searches and writes with admin changes
// from many goroutines; under -race it checks the store's locking and the
// copy-on-write rule for records served after the lock is released.
func TestConcurrentUse(t *testing.T) {
	o := smallShop()
	o.WebhookClient = &http.Client{Transport: memTransport{&receiver{}}}
	sim := New(o)
	defer sim.Close()
	sim.SetRateLimit(1<<20, 1<<20)
	withV, plain := productWithVariants(t, sim)
	c := newClient(t, sim)
	c.do(http.MethodPost, "/api/v2/Webhooks", ekm.AddWebhook{Topic: ekm.TopicOrderUpdated, Endpoint: "http://hooks.test/", IsEnabled: true}).want(t, http.StatusCreated)
	v := withV.Variants[0]
	ops := []func(i int){
		func(i int) {
			c.get("/api/v2/orders/search?orderby=-last_updated&query="+urlQuery("status ne 'FAILED'")).want(t, http.StatusOK)
		},
		func(i int) { c.get(fmt.Sprintf("/api/v2/orders/%d/items", 1+i%80)).want(t, http.StatusOK) },
		func(i int) {
			c.put(fmt.Sprintf("/api/v2/orders/%d/status", 1+i%80), ekm.OrderStatusUpdate{Status: []string{"Pending", "Complete"}[i%2]}).want(t, http.StatusOK)
		},
		func(i int) {
			c.put(fmt.Sprintf("/api/v2/orders/%d/internalNotes", 1+i%80), ekm.InternalNotes{Notes: "n"}).want(t, http.StatusOK)
		},
		func(i int) { c.get("/api/v1/products?page=2").want(t, http.StatusOK) },
		func(i int) {
			c.get("/api/v1/products/search?orderby=name&query="+urlQuery("live eq true")).want(t, http.StatusOK)
		},
		func(i int) {
			c.put(fmt.Sprintf("/api/v1/products/%d/stock", plain.ID), map[string]any{"stock": i}).want(t, http.StatusOK)
		},
		func(i int) {
			c.put(fmt.Sprintf("/api/v1/products/%d/variants/%d", withV.ID, v.ID), map[string]any{"price": float64(i)}).want(t, http.StatusOK)
		},
		func(i int) {
			c.put(fmt.Sprintf("/api/v1/products/%d", plain.ID), map[string]any{"name": fmt.Sprint("N", i)}).want(t, http.StatusOK)
		},
		func(i int) { sim.CreateOrder(OrderSpec{}) },
		func(i int) { _, _ = sim.UpdateProduct(withV.ID, ProductPatch{Price: ptrTo(float64(i))}) },
		func(i int) {
			_ = sim.Products()
			_ = sim.Orders()
			_ = sim.Writes(WriteFilter{})
			_ = sim.RequestStats()
		},
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 60 {
				ops[(g+i)%len(ops)](i)
			}
		})
	}
	wg.Wait()
	if n := len(sim.Orders()); n <= 80 {
		t.Errorf("%d orders after concurrent creates", n)
	}
}
