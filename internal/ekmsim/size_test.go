package ekmsim

import (
	"net/http"
	"runtime"
	"testing"
)

// TestHundredThousandOrdersAndProducts checks the size bound: a shop of
// 100,000 products (30% with variants) and 100,000 orders fits well under
// 1 GB of heap, and a search over it still answers. The bound is on memory,
// not time.
func TestHundredThousandOrdersAndProducts(t *testing.T) {
	sim := New(Options{Seed: 1, Products: 100_000, VariantShare: 0.3, SKUProblems: 100, Orders: 100_000})
	defer sim.Close()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.Logf("HeapAlloc with 100k products and 100k orders: %d MiB", ms.HeapAlloc>>20)
	if ms.HeapAlloc >= 1<<30 {
		t.Errorf("HeapAlloc %d MiB, want under 1 GiB", ms.HeapAlloc>>20)
	}
	c := newClient(t, sim)
	r := c.get("/api/v2/orders/search?orderby=-order_date&query="+urlQuery("status eq 'PENDING'")).want(t, http.StatusOK)
	if r.listMeta(t).ItemsTotal == 0 {
		t.Error("no pending order among 100,000")
	}
	if n := c.get("/api/v1/products?page=5000").want(t, http.StatusOK).listMeta(t).ItemsTotal; n != 100_000 {
		t.Errorf("%d products listed, want 100,000", n)
	}
	runtime.KeepAlive(sim)
}
