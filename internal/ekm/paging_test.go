package ekm

import (
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"testing"
)

// pagedOrders serves total orders over /api/v2/orders/search, 20 a page, and
// records the queries it got. Its links mimic EKM's, which lack /api/v2.
type pagedOrders struct {
	mu      sync.Mutex
	total   int
	queries []map[string]string
	fail    int // page number answered 400, if set
}

func (p *pagedOrders) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p.mu.Lock()
	p.queries = append(p.queries, map[string]string{"path": r.URL.Path, "page": q.Get("page"), "limit": q.Get("limit"), "query": q.Get("query"), "orderby": q.Get("orderby")})
	p.mu.Unlock()
	page, _ := strconv.Atoi(q.Get("page"))
	limit, _ := strconv.Atoi(q.Get("limit"))
	if page == p.fail {
		writeValidation(w, 400, "", "Invalid search expression")
		return
	}
	pages := (p.total + limit - 1) / limit
	var data []any
	for id := (page-1)*limit + 1; id <= min(page*limit, p.total); id++ {
		data = append(data, sampleOrder(int64(id)))
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"meta":  map[string]any{"pages_total": pages, "items_total": p.total, "items_per_page": limit},
		"links": []any{map[string]string{"rel": "next", "href": "/orders?page=" + strconv.Itoa(page+1)}},
		"data":  data,
	})
}

func TestPagesWalksToPagesTotalWithoutFollowingLinks(t *testing.T) {
	srv := &pagedOrders{total: 45}
	c := newTestClient(t, srv, Config{})
	var ids []int64
	for o, err := range c.AllOrders(t.Context(), SearchOptions{Query: "status eq 'PENDING'", OrderBy: "id"}) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, o.ID)
	}
	if len(ids) != 45 || ids[0] != 1 || ids[44] != 45 {
		t.Fatalf("got %d orders %v", len(ids), ids)
	}
	if len(srv.queries) != 3 {
		t.Fatalf("requests = %v, want pages 1 to 3", srv.queries)
	}
	for i, q := range srv.queries {
		want := map[string]string{"path": "/api/v2/orders/search", "page": strconv.Itoa(i + 1), "limit": "20", "query": "status eq 'PENDING'", "orderby": "id"}
		for k, v := range want {
			if q[k] != v {
				t.Errorf("request %d: %s = %q, want %q", i, k, q[k], v)
			}
		}
	}
}

func TestPagesResumesAtTheGivenPage(t *testing.T) {
	srv := &pagedOrders{total: 100}
	c := newTestClient(t, srv, Config{})
	var numbers []int
	for p, err := range Pages(t.Context(), 4, c.OrderSearchPages(SearchOptions{OrderBy: "id"})) {
		if err != nil {
			t.Fatal(err)
		}
		numbers = append(numbers, p.Number)
		if p.Meta.PagesTotal != 5 || len(p.Items) != 20 {
			t.Errorf("page %d: meta %+v with %d items", p.Number, p.Meta, len(p.Items))
		}
	}
	if len(numbers) != 2 || numbers[0] != 4 || numbers[1] != 5 {
		t.Errorf("pages = %v, want [4 5]", numbers)
	}
}

func TestPagesStopsAtAnEmptyPage(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeEnvelope(w, 200, []any{}, map[string]any{"pages_total": 9})
	})
	c := newTestClient(t, h, Config{})
	n := 0
	for _, err := range Pages(t.Context(), 1, c.ProductPages(20)) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 1 {
		t.Errorf("fetched %d pages, want 1", n)
	}
}

func TestPagesYieldsAnErrorOnceAndStops(t *testing.T) {
	srv := &pagedOrders{total: 100, fail: 2}
	c := newTestClient(t, srv, Config{})
	var errs int
	for p, err := range Pages(t.Context(), 1, c.OrderSearchPages(SearchOptions{})) {
		if err != nil {
			errs++
			if KindOf(err) != KindBadRequest || p.Number != 2 {
				t.Errorf("page %d: err = %v", p.Number, err)
			}
		}
	}
	if errs != 1 || len(srv.queries) != 2 {
		t.Errorf("%d errors after %d requests, want 1 after 2", errs, len(srv.queries))
	}
}

func TestPagesStopsWhenTheCallerBreaks(t *testing.T) {
	srv := &pagedOrders{total: 100}
	c := newTestClient(t, srv, Config{})
	for range Pages(t.Context(), 1, c.OrderSearchPages(SearchOptions{})) {
		break
	}
	if len(srv.queries) != 1 {
		t.Errorf("requests = %d after break, want 1", len(srv.queries))
	}
}

func TestLimitIsClampedToEKMsMaximum(t *testing.T) {
	var limit string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit = r.URL.Query().Get("limit")
		writeEnvelope(w, 200, []any{}, nil)
	})
	c := newTestClient(t, h, Config{})
	if _, err := c.ListProducts(t.Context(), 1, 500); err != nil {
		t.Fatal(err)
	}
	if limit != "20" {
		t.Errorf("limit = %s, want 20", limit)
	}
}

func TestRawPageLetsTheCallerQuarantineOneBrokenOrder(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"meta":{"pages_total":1,"items_total":4,"items_per_page":20},"links":[],"data":[
			{"id":1,"order_number":"1/010124/1","order_date":"2024-01-01T10:00:00Z","order_type":""},
			{"id":2,"order_date":"2024-01-01T10:00:00Z"},
			{"id":"three","order_number":"x"},
			{"id":4,"order_number":"1/010124/4","order_date":"2024-01-02T10:00:00.1234567Z","order_type":""}]}`))
	})
	c := newTestClient(t, h, Config{})
	page, err := c.SearchOrdersRaw(t.Context(), SearchOptions{})
	if err != nil || len(page.Items) != 4 {
		t.Fatalf("raw page = %d items, %v", len(page.Items), err)
	}
	var good []int64
	var bad int
	for _, raw := range page.Items {
		o, err := DecodeOrder(raw)
		if err != nil {
			if KindOf(err) != KindInvalidData {
				t.Errorf("err = %v, want invalid data", err)
			}
			bad++
			continue
		}
		good = append(good, o.ID)
	}
	if bad != 2 || len(good) != 2 || good[0] != 1 || good[1] != 4 {
		t.Errorf("good %v, bad %d", good, bad)
	}
	_, err = c.SearchOrders(t.Context(), SearchOptions{})
	if e := AsError(err); e == nil || e.Kind != KindInvalidData || e.Path != "/api/v2/orders/search" {
		t.Errorf("typed page err = %v, want invalid data naming the request", err)
	}
}

func TestDecodeOrderChecksTheRequiredFields(t *testing.T) {
	cases := map[string]bool{
		`{"id":1,"order_number":"A","order_date":"2024-01-01T10:00:00Z"}`:        true,
		`{"id":1,"order_number":"A","order_date":"2024-01-01T10:00:00.1234567"}`: true,
		`{"id":0,"order_number":"A","order_date":"2024-01-01T10:00:00Z"}`:        false,
		`{"id":1,"order_number":"","order_date":"2024-01-01T10:00:00Z"}`:         false,
		`{"id":1,"order_number":"A","order_date":"yesterday"}`:                   false,
		`{"id":1,"order_number":"A","order_date":null}`:                          false,
		`{"id":1,"order_number":"A"}`:                                            false,
		`[1,2]`:                                                                  false,
		`null`:                                                                   false,
	}
	for raw, ok := range cases {
		_, err := DecodeOrder(json.RawMessage(raw))
		if (err == nil) != ok || (err != nil && KindOf(err) != KindInvalidData) {
			t.Errorf("%s: err = %v, want ok=%v", raw, err, ok)
		}
	}
}

func TestOrderItemsFetchesEveryPage(t *testing.T) {
	var pages []string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v2/orders/5/items" {
			t.Errorf("path = %s", r.URL.Path)
		}
		page := r.URL.Query().Get("page")
		pages = append(pages, page)
		id := 1
		if page == "2" {
			id = 2
		}
		writeEnvelope(w, 200, []any{map[string]any{"id": id, "order_id": 5, "product_code": "SKU", "quantity": 1, "order_number": "n"}},
			map[string]any{"pages_total": 2, "items_total": 2, "items_per_page": 1})
	})
	c := newTestClient(t, h, Config{})
	items, err := c.OrderItems(t.Context(), 5)
	if err != nil || len(items) != 2 || items[1].ID != 2 {
		t.Fatalf("items = %+v, %v", items, err)
	}
	if len(pages) != 2 || pages[0] != "" || pages[1] != "2" {
		t.Errorf("pages asked = %q", pages)
	}
}

func TestListMetaAcceptsAnyJSONNumberForm(t *testing.T) {
	m := listMeta(map[string]any{"pages_total": "3", "items_total": 41.0, "items_per_page": map[string]any{}})
	if m.PagesTotal != 3 || m.ItemsTotal != 41 || m.ItemsPerPage != 0 {
		t.Errorf("meta = %+v", m)
	}
}

// A page whose meta lost pages_total is not taken for the last one while it is full.
func TestLastWithoutPagesTotalEndsOnlyOnAShortPage(t *testing.T) {
	full := Page[int]{Number: 1, Items: make([]int, MaxPageSize)}
	if full.Last() {
		t.Fatal("a full page without pages_total was taken for the last")
	}
	short := Page[int]{Number: 2, Items: make([]int, 3)}
	if !short.Last() {
		t.Fatal("a short page without pages_total was not the last")
	}
	if !(Page[int]{Number: 3}).Last() {
		t.Fatal("an empty page was not the last")
	}
	withTotal := Page[int]{Number: 2, Items: make([]int, 3), Meta: ListMeta{PagesTotal: 5}}
	if withTotal.Last() {
		t.Fatal("page 2 of 5 was taken for the last")
	}
}
