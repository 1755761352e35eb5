package ekmsim

import (
	"net/http"
	"strings"
	"testing"

	"github.com/ekmsync/ekmsync/internal/ekm"
)

func TestListEnvelopeMetaAndLinks(t *testing.T) {
	sim := New(smallShop())
	defer sim.Close()
	c := newClient(t, sim)

	r := c.get("/api/v2/orders?page=2&limit=7").want(t, http.StatusOK)
	env := r.envelope(t)
	meta := r.listMeta(t)
	if meta != (ekm.ListMeta{PagesTotal: 12, ItemsTotal: 80, ItemsPerPage: 7}) {
		t.Errorf("meta %+v, want 12 pages of 7 for 80 orders", meta)
	}
	if env.ValidationResult != nil || env.Errors != nil {
		t.Errorf("validation_result and errors should be null: %s", r.body)
	}
	wantLinks := []ekm.Link{{Rel: "current", Href: "/orders?limit=7&page=2"}, {Rel: "next", Href: "/orders?limit=7&page=3"}}
	if len(env.Links) != 2 || env.Links[0] != wantLinks[0] || env.Links[1] != wantLinks[1] {
		t.Errorf("links %+v, want %+v", env.Links, wantLinks)
	}
	orders := data[[]ekm.Order](t, r)
	if len(orders) != 7 || orders[0].ID != 8 || orders[6].ID != 14 {
		t.Errorf("page 2 of 7 should hold ids 8..14, got %d orders from %d", len(orders), orders[0].ID)
	}
	for _, key := range []string{`"meta":`, `"links":`, `"validation_result":`, `"errors":`, `"data":`} {
		if !strings.Contains(string(r.body), key) {
			t.Errorf("envelope lacks %s", key)
		}
	}
}

func TestListLastPageHasNoNextLink(t *testing.T) {
	sim := New(smallShop())
	defer sim.Close()
	env := newClient(t, sim).get("/api/v2/orders?page=4").want(t, http.StatusOK).envelope(t)
	if len(env.Links) != 1 || env.Links[0].Rel != "current" {
		t.Errorf("last page (4 of 20 each for 80) links %+v, want current only", env.Links)
	}
}

func TestDefaultLimitIsTwenty(t *testing.T) {
	sim := New(smallShop())
	defer sim.Close()
	r := newClient(t, sim).get("/api/v1/products").want(t, http.StatusOK)
	if meta := r.listMeta(t); meta.ItemsPerPage != 20 || meta.ItemsTotal != 60 || meta.PagesTotal != 3 {
		t.Errorf("meta %+v, want 20 per page, 60 products, 3 pages", meta)
	}
	if n := len(data[[]ekm.Product](t, r)); n != 20 {
		t.Errorf("%d products on the page, want 20", n)
	}
}

func TestLimitAndPageValidation(t *testing.T) {
	sim := New(smallShop())
	defer sim.Close()
	c := newClient(t, sim)
	for _, tc := range []struct {
		query, member, message string
	}{
		{"limit=21", "limit", "The field limit must be between 1 and 20."},
		{"limit=0", "limit", "The field limit must be between 1 and 20."},
		{"limit=x", "limit", "The value 'x' is not valid for limit."},
		{"page=0", "page", "The field page must be between 1 and 2147483647."},
		{"page=-3", "page", "The field page must be between 1 and 2147483647."},
		{"page=abc", "page", "The value 'abc' is not valid for page."},
	} {
		for _, path := range []string{"/api/v2/orders", "/api/v2/orders/search", "/api/v1/products"} {
			c.get(path+"?"+tc.query).wantValidation(t, http.StatusBadRequest, []string{tc.member}, tc.message)
		}
	}
}

func TestPagePastTheEndIsEmpty(t *testing.T) {
	sim := New(smallShop())
	defer sim.Close()
	r := newClient(t, sim).get("/api/v2/orders?page=99").want(t, http.StatusOK)
	if string(r.envelope(t).Data) != "[]" {
		t.Errorf("data %s, want []", r.envelope(t).Data)
	}
	if meta := r.listMeta(t); meta.ItemsTotal != 80 || meta.PagesTotal != 4 {
		t.Errorf("meta %+v should still count the whole result", meta)
	}
}

func TestEmptyResultHasZeroPages(t *testing.T) {
	sim := New(smallShop())
	defer sim.Close()
	r := newClient(t, sim).get("/api/v2/orders/search?query="+urlQuery("id gt 100000")).want(t, http.StatusOK)
	if meta := r.listMeta(t); meta != (ekm.ListMeta{PagesTotal: 0, ItemsTotal: 0, ItemsPerPage: 20}) {
		t.Errorf("meta %+v, want 0 pages, 0 items", meta)
	}
	if string(r.envelope(t).Data) != "[]" {
		t.Errorf("data should be an empty array: %s", r.body)
	}
}

func TestSingleObjectEnvelope(t *testing.T) {
	sim := New(smallShop())
	defer sim.Close()
	r := newClient(t, sim).get("/api/v2/orders/3").want(t, http.StatusOK)
	if !strings.HasPrefix(string(r.body), `{"meta":{},"links":[],"validation_result":null,"errors":null,"data":{`) {
		t.Errorf("single-object envelope should have empty meta and links: %.120s", r.body)
	}
	if o := data[ekm.Order](t, r); o.ID != 3 {
		t.Errorf("order id %d, want 3", o.ID)
	}
}
