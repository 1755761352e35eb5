package ekmsim

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/ekmsync/ekmsync/internal/ekm"
)

// Searches are answered from cached sorted orders and cached matches; these
// tests check that every kind of write shows in the next search.

func TestSearchSeesStatusWritesAndNewOrders(t *testing.T) {
	sim := New(smallShop())
	defer sim.Close()
	c := newClient(t, sim)
	pending := searchAll(t, c, "status eq 'PENDING'", "status")
	byStatus := searchAll(t, c, "", "-status")
	if len(pending) == 0 {
		t.Fatal("no pending order")
	}
	id := pending[0].ID
	c.put("/api/v2/orders/"+itoa(id)+"/status", ekm.OrderStatusUpdate{Status: "Complete"}).want(t, http.StatusOK)
	if got := searchAll(t, c, "status eq 'PENDING'", "status"); len(got) != len(pending)-1 {
		t.Errorf("after completing order %d: %d pending, want %d", id, len(got), len(pending)-1)
	}
	after := searchAll(t, c, "", "-status")
	for i := 1; i < len(after); i++ {
		if after[i-1].Status < after[i].Status {
			t.Fatalf("-status not re-sorted after a status write: %s before %s", after[i-1].Status, after[i].Status)
		}
	}
	if len(after) != len(byStatus) {
		t.Errorf("%d orders after a write, want %d", len(after), len(byStatus))
	}

	sim.CreateOrder(OrderSpec{Status: "Pending"})
	if got := searchAll(t, c, "status eq 'PENDING'", "-order_date"); len(got) != len(pending) || got[0].ID != 81 {
		t.Errorf("new pending order missing from a search: %d results, first %d", len(got), got[0].ID)
	}
	sim.UpdateOrder(81, OrderPatch{Status: ptrTo("Failed")})
	if got := searchAll(t, c, "status eq 'FAILED'", "order_date"); got[len(got)-1].ID != 81 {
		t.Error("an admin status change is missing from a search")
	}
}

func TestSearchSeesProductWrites(t *testing.T) {
	sim := New(smallShop())
	defer sim.Close()
	c := newClient(t, sim)
	_, plain := productWithVariants(t, sim)
	search := func(q, orderby string) []ekm.Product {
		return data[[]ekm.Product](t, c.get("/api/v1/products/search?limit=20&orderby="+orderby+"&query="+urlQuery(q)).want(t, http.StatusOK))
	}
	if got := search("name eq 'Aardvark Lamp'", "name"); len(got) != 0 {
		t.Fatalf("found %d before the rename", len(got))
	}
	first := search("live eq true or live eq false", "name")
	c.put("/api/v1/products/"+itoa(plain.ID), map[string]any{"name": "Aardvark Lamp", "live": true}).want(t, http.StatusOK)
	if got := search("name eq 'Aardvark Lamp'", "name"); len(got) != 1 || got[0].ID != plain.ID {
		t.Errorf("renamed product not found: %v", got)
	}
	if got := search("live eq true or live eq false", "name"); got[0].ID != plain.ID || got[0].ID == first[0].ID {
		t.Errorf("orderby=name not re-sorted after a rename: first is %d (%s)", got[0].ID, got[0].Name)
	}
	c.put("/api/v1/products/"+itoa(plain.ID)+"/stock", map[string]any{"stock": 1234}).want(t, http.StatusOK)
	if got := search("name eq 'Aardvark Lamp'", "id"); got[0].NumberInStock != 1234 {
		t.Errorf("a cached search serves stale stock %d", got[0].NumberInStock)
	}
	sim.CreateProduct(ProductSpec{Name: "Aardvark Lamp"})
	if got := search("name eq 'Aardvark Lamp'", "-id"); len(got) != 2 {
		t.Errorf("%d products named Aardvark Lamp after adding one, want 2", len(got))
	}
	if err := sim.DeleteProduct(plain.ID); err != nil {
		t.Fatal(err)
	}
	if got := search("name eq 'Aardvark Lamp'", "id"); len(got) != 1 || got[0].ID == plain.ID {
		t.Errorf("deleted product still found: %v", got)
	}
}

// BenchmarkSearchOrdersPaging pages through a filtered, sorted search of a
// 100,000-order shop, as an order sync does; the first page scans, the
// others slice the cached result.
func BenchmarkSearchOrdersPaging(b *testing.B) {
	sim := New(Options{Seed: 1, Products: 1000, Orders: 100_000})
	defer sim.Close()
	sim.SetRateLimit(1<<30, 1<<30)
	c := newClient(b, sim)
	q := "/api/v2/orders/search?orderby=order_date&limit=20&query=" + urlQuery("order_date ge '2000-01-01' and status ne 'FAILED'") + "&page="
	b.ResetTimer()
	for i := range b.N {
		c.get(q+strconv.Itoa(1+i%1000)).want(b, http.StatusOK)
	}
}
