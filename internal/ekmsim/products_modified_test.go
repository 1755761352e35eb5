package ekmsim

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/ekmsync/ekmsync/internal/ekm"
)

// The products search filters and sorts by last_modified, with paging and the
// envelope (docs/ekm-api.md §7): a change made in the admin, and a variant's
// stock set through the API (which moves its master product's last_modified,
// ASSUMED), are what "modified since" finds, in the order they were made; a key
// filter (ekm.KeyAfter) pages past the first; a date that is not one is EKM's
// "Invalid search expression".
func TestProductsSearchByLastModified(t *testing.T) {
	clock := newFakeClock()
	opts := smallShop()
	opts.Now = clock.Now
	sim := New(opts)
	defer sim.Close()
	withV, plain := productWithVariants(t, sim)
	clock.Advance(time.Hour)
	c := newClient(t, sim) // after the hour: access tokens last one
	mark := clock.Now()
	clock.Advance(time.Second)
	price := 12.34
	if _, err := sim.UpdateProduct(plain.ID, ProductPatch{Price: &price}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Second)
	v := withV.Variants[0]
	c.put(fmt.Sprintf("/api/v1/products/%d/variants/%d/stock", withV.ID, v.ID), map[string]any{"stock": 7}).want(t, http.StatusOK)

	search := func(query string, limit int) *response {
		t.Helper()
		return c.get(fmt.Sprintf("/api/v1/products/search?query=%s&orderby=last_modified&limit=%d", urlQuery(query), limit))
	}
	since := "last_modified gt " + ekm.ODataTime(mark)
	r := search(since, 1).want(t, http.StatusOK)
	if m := r.listMeta(t); m.ItemsTotal != 2 || m.PagesTotal != 2 || m.ItemsPerPage != 1 {
		t.Errorf("meta %+v, want 2 items on 2 pages of 1", m)
	}
	first := data[[]ekm.Product](t, r)
	if len(first) != 1 || first[0].ID != plain.ID || first[0].Price != price {
		t.Fatalf("first page %+v, want product %d at its new price (modified first)", first, plain.ID)
	}
	page2 := data[[]ekm.Product](t, c.get(fmt.Sprintf("/api/v1/products/search?query=%s&orderby=last_modified&limit=1&page=2",
		urlQuery(since))).want(t, http.StatusOK))
	if len(page2) != 1 || page2[0].ID != withV.ID || !page2[0].LastModified.After(first[0].LastModified.Time) {
		t.Fatalf("second page %+v, want product %d, whose variant's stock was set after", page2, withV.ID)
	}
	if got := page2[0].Variants[0].NumberInStock; got != 7 {
		t.Errorf("variant stock %d, want 7", got)
	}

	after := ekm.KeyAfter("last_modified", first[0].LastModified.Time, first[0].ID)
	keyed := data[[]ekm.Product](t, search(after, 20).want(t, http.StatusOK))
	if len(keyed) != 1 || keyed[0].ID != withV.ID {
		t.Errorf("products after the first one's key: %+v, want only product %d", keyed, withV.ID)
	}
	if got := data[[]ekm.Product](t, search("last_modified gt "+ekm.ODataTime(clock.Now()), 20).want(t, http.StatusOK)); len(got) != 0 {
		t.Errorf("modified after the last change: %d products, want none", len(got))
	}
	search("last_modified gt datetime'yesterday'", 20).wantValidation(t, http.StatusBadRequest, nil, invalidSearchMessage)
}
