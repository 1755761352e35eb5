package ekmsim

import (
	"fmt"
	"net/http"
	"strconv"
	"testing"

	"github.com/ekmsync/ekmsync/internal/ekm"
)

// productWithVariants returns the first seeded product that has variants and
// the first that has none.
func productWithVariants(t *testing.T, sim *Sim) (withV, plain ekm.Product) {
	t.Helper()
	for _, p := range sim.Products() {
		switch {
		case len(p.Variants) > 0 && withV.ID == 0:
			withV = p
		case len(p.Variants) == 0 && plain.ID == 0 && p.ProductCode != "":
			plain = p
		}
	}
	if withV.ID == 0 || plain.ID == 0 {
		t.Fatal("seed lacks a product with and one without variants")
	}
	return withV, plain
}

func TestProductsListNestsVariants(t *testing.T) {
	sim := New(smallShop())
	defer sim.Close()
	c := newClient(t, sim)
	seen, variants := 0, 0
	for page := 1; page <= 3; page++ {
		for _, p := range data[[]ekm.Product](t, c.get("/api/v1/products?page="+strconv.Itoa(page)).want(t, http.StatusOK)) {
			seen++
			total := p.NumberInStock
			for _, v := range p.Variants {
				variants++
				total += v.NumberInStock
				if v.ParentProductID != p.ID {
					t.Errorf("variant %d parent %d, want %d", v.ID, v.ParentProductID, p.ID)
				}
			}
			if p.TotalProductStock != total {
				t.Errorf("product %d total %d, want own + variants = %d", p.ID, p.TotalProductStock, total)
			}
		}
	}
	if seen != 60 || variants == 0 {
		t.Errorf("listed %d products with %d variants, want 60 with some variants", seen, variants)
	}
}

func TestProductsSearch(t *testing.T) {
	sim := New(smallShop())
	defer sim.Close()
	c := newClient(t, sim)
	withV, plain := productWithVariants(t, sim)

	got := data[[]ekm.Product](t, c.get("/api/v1/products/search?query="+urlQuery("product_code eq '"+plain.ProductCode+"'")).want(t, http.StatusOK))
	if len(got) < 1 || got[0].ID != plain.ID {
		t.Errorf("search by SKU %s: %v", plain.ProductCode, got)
	}
	live := 0
	for _, p := range sim.Products() {
		if p.Live {
			live++
		}
	}
	r := c.get("/api/v1/products/search?query="+urlQuery("live eq true")+"&limit=1").want(t, http.StatusOK)
	if r.listMeta(t).ItemsTotal != live {
		t.Errorf("live eq true: %d, want %d", r.listMeta(t).ItemsTotal, live)
	}
	q := fmt.Sprintf("(product_code eq '%s' or id eq %d) and live eq %v", plain.ProductCode, withV.ID, withV.Live)
	got = data[[]ekm.Product](t, c.get("/api/v1/products/search?orderby=-id&query="+urlQuery(q)).want(t, http.StatusOK))
	found := map[int64]bool{}
	for i, p := range got {
		found[p.ID] = true
		if i > 0 && got[i-1].ID <= p.ID {
			t.Errorf("orderby=-id: id %d after %d", p.ID, got[i-1].ID)
		}
	}
	if !found[withV.ID] || found[plain.ID] != (plain.Live == withV.Live) {
		t.Errorf("%s: ids %v, want %d (and %d if its live matches)", q, found, withV.ID, plain.ID)
	}
	c.get("/api/v1/products/search").wantValidation(t, http.StatusBadRequest, []string{"query"}, "The query field is required.")
	c.get("/api/v1/products/search?query="+urlQuery("status eq 'PENDING'")).wantValidation(t, http.StatusBadRequest, nil, "Invalid search expression")
}

func TestSKUProblemsAreSearchable(t *testing.T) {
	sim := New(smallShop())
	defer sim.Close()
	c := newClient(t, sim)
	r := c.get("/api/v1/products/search?query="+urlQuery("product_code eq ''")).want(t, http.StatusOK)
	empty := 0
	for _, p := range sim.Products() {
		if p.ProductCode == "" {
			empty++
		}
	}
	if r.listMeta(t).ItemsTotal != empty {
		t.Errorf("empty-SKU search found %d, want %d", r.listMeta(t).ItemsTotal, empty)
	}
}

func TestGetProductNotFoundAndVariant422(t *testing.T) {
	sim := New(smallShop())
	defer sim.Close()
	c := newClient(t, sim)
	withV, plain := productWithVariants(t, sim)
	if p := data[ekm.Product](t, c.get("/api/v1/products/"+strconv.FormatInt(plain.ID, 10)).want(t, http.StatusOK)); p.ID != plain.ID {
		t.Errorf("got product %d, want %d", p.ID, plain.ID)
	}
	vid := withV.Variants[0].ID
	want := fmt.Sprintf("Product '%d' is a variant. Please use master product Id '%d'", vid, withV.ID)
	for _, suffix := range []string{"", "/stock", "/variants"} {
		c.get(fmt.Sprintf("/api/v1/products/%d%s", vid, suffix)).wantValidation(t, http.StatusUnprocessableEntity, []string{"id"}, want)
	}
	c.put(fmt.Sprintf("/api/v1/products/%d/stock", vid), map[string]any{"stock": 3}).wantValidation(t, http.StatusUnprocessableEntity, []string{"id"}, want)
	c.get("/api/v1/products/424242").wantValidation(t, http.StatusNotFound, []string{"id"}, "Product '424242' not found.")
}

func TestPutProductSetsTheFieldsItCarries(t *testing.T) {
	sim := New(smallShop())
	defer sim.Close()
	c := newClient(t, sim)
	_, plain := productWithVariants(t, sim)
	path := "/api/v1/products/" + strconv.FormatInt(plain.ID, 10)

	got := data[ekm.Product](t, c.put(path, map[string]any{"name": "Renamed", "price": 12.34}).want(t, http.StatusOK))
	if got.Name != "Renamed" || got.Price != 12.34 || got.ProductCode != plain.ProductCode || got.NumberInStock != plain.NumberInStock ||
		got.Description != plain.Description || !got.LastModified.After(plain.LastModified.Time) {
		t.Errorf("after PUT {name, price}: %+v; other fields should be kept and last_modified moved", got)
	}
	c.put(path, map[string]any{"price": 1}).wantValidation(t, http.StatusBadRequest, []string{"name"}, "The name field is required.")
	c.put(path, map[string]any{"name": "X", "price": -1}).
		wantValidation(t, http.StatusBadRequest, []string{"price"}, "The field price must be between 0 and 1.7976931348623157E+308.")
	c.put(path, map[string]any{"name": "X", "id": plain.ID + 1}).wantValidation(t, http.StatusBadRequest, []string{"id"}, idMismatchMessage)
	c.put(path, map[string]any{"name": "X", "price": "cheap"}).wantValidation(t, http.StatusBadRequest, nil, invalidBodyMessage)

	// A full ToUpdate body round-trips.
	upd := got.ToUpdate()
	upd.Price = 20
	if p := data[ekm.Product](t, c.put(path, upd).want(t, http.StatusOK)); p.Price != 20 || p.Name != "Renamed" {
		t.Errorf("full update body: price %v name %q", p.Price, p.Name)
	}
	writes := sim.Writes(WriteFilter{ProductID: plain.ID, Kind: KindProductUpdate})
	if len(writes) != 2 {
		t.Errorf("%d product.update writes, want the 2 successful ones", len(writes))
	}
}

func TestProductStock(t *testing.T) {
	sim := New(smallShop())
	defer sim.Close()
	c := newClient(t, sim)
	withV, plain := productWithVariants(t, sim)
	path := fmt.Sprintf("/api/v1/products/%d/stock", plain.ID)
	st := data[ekm.ProductStock](t, c.get(path).want(t, http.StatusOK))
	if st != (ekm.ProductStock{ID: plain.ID, Stock: plain.NumberInStock, TotalProductStock: plain.NumberInStock}) {
		t.Errorf("stock %+v for a plain product with %d", st, plain.NumberInStock)
	}
	st = data[ekm.ProductStock](t, c.put(path, map[string]any{"id": plain.ID, "stock": 17, "total_product_stock": 999}).want(t, http.StatusOK))
	if st.Stock != 17 || st.TotalProductStock != 17 {
		t.Errorf("after PUT 17: %+v (total is derived, the body's is ignored)", st)
	}
	c.put(path, map[string]any{"id": plain.ID}).wantValidation(t, http.StatusBadRequest, []string{"stock"}, "The stock field is required.")
	c.put(path, map[string]any{"stock": -2}).wantValidation(t, http.StatusBadRequest, []string{"stock"}, negativeStockMessage)
	c.put(path, map[string]any{"id": plain.ID + 1, "stock": 2}).wantValidation(t, http.StatusBadRequest, []string{"id"}, idMismatchMessage)

	vsum := int64(0)
	for _, v := range withV.Variants {
		vsum += v.NumberInStock
	}
	st = data[ekm.ProductStock](t, c.put(fmt.Sprintf("/api/v1/products/%d/stock", withV.ID), map[string]any{"stock": 5}).want(t, http.StatusOK))
	if st.Stock != 5 || st.TotalProductStock != 5+vsum {
		t.Errorf("product with variants: %+v, want total 5 + %d", st, vsum)
	}
	if w := sim.Writes(WriteFilter{Kind: KindProductStock}); len(w) != 2 || w[0].ProductID != plain.ID || string(w[0].Body) != `{"id":`+strconv.FormatInt(plain.ID, 10)+`,"stock":17,"total_product_stock":999}` {
		t.Errorf("stock writes %+v", w)
	}
}

func TestVariantsEndpoints(t *testing.T) {
	sim := New(smallShop())
	defer sim.Close()
	c := newClient(t, sim)
	withV, plain := productWithVariants(t, sim)
	base := fmt.Sprintf("/api/v1/products/%d/variants", withV.ID)
	r := c.get(base).want(t, http.StatusOK)
	vs := data[[]ekm.Variant](t, r)
	if len(vs) != len(withV.Variants) || r.listMeta(t).ItemsTotal != len(vs) {
		t.Fatalf("%d variants listed, want %d", len(vs), len(withV.Variants))
	}
	if none := data[[]ekm.Variant](t, c.get(fmt.Sprintf("/api/v1/products/%d/variants", plain.ID)).want(t, http.StatusOK)); len(none) != 0 {
		t.Errorf("a plain product lists %d variants", len(none))
	}
	v := vs[len(vs)-1]
	vpath := fmt.Sprintf("%s/%d", base, v.ID)
	if got := data[ekm.Variant](t, c.get(vpath).want(t, http.StatusOK)); got.ProductCode != v.ProductCode {
		t.Errorf("GET variant: %+v", got)
	}

	upd := v
	upd.Price = 99.5
	got := data[ekm.Variant](t, c.put(vpath, upd).want(t, http.StatusOK))
	if got.Price != 99.5 || got.ProductCode != v.ProductCode || len(got.VariantCombinations) != 1 {
		t.Errorf("variant after price PUT: %+v", got)
	}
	got = data[ekm.Variant](t, c.put(vpath, map[string]any{"product_code": "NEW-SKU"}).want(t, http.StatusOK))
	if got.ProductCode != "NEW-SKU" || got.Price != 99.5 {
		t.Errorf("partial variant PUT: %+v", got)
	}
	c.put(vpath, map[string]any{"parent_product_id": plain.ID}).wantValidation(t, http.StatusBadRequest, []string{"parent_product_id"}, idMismatchMessage)

	vs2 := data[ekm.VariantStock](t, c.put(vpath+"/stock", map[string]any{"id": v.ID, "parent_product_id": withV.ID, "stock": 42}).want(t, http.StatusOK))
	if vs2 != (ekm.VariantStock{ID: v.ID, ParentProductID: withV.ID, Stock: 42}) {
		t.Errorf("variant stock %+v", vs2)
	}
	if got := data[ekm.VariantStock](t, c.get(vpath+"/stock").want(t, http.StatusOK)); got.Stock != 42 {
		t.Errorf("GET variant stock %+v", got)
	}
	p, _ := sim.Product(withV.ID)
	if p.TotalProductStock != withV.TotalProductStock-v.NumberInStock+42 {
		t.Errorf("parent total %d does not follow the variant's stock", p.TotalProductStock)
	}
	c.put(vpath+"/stock", map[string]any{"stock": -1}).wantValidation(t, http.StatusBadRequest, []string{"stock"}, negativeStockMessage)

	// A variant of another product is not found under this one.
	other := fmt.Sprintf("/api/v1/products/%d/variants/%d", plain.ID, v.ID)
	c.put(other+"/stock", map[string]any{"stock": 1}).
		wantValidation(t, http.StatusNotFound, []string{"variantId"}, fmt.Sprintf("Variant '%d' not found.", v.ID))

	kinds := map[string]int{}
	for _, w := range sim.Writes(WriteFilter{VariantID: v.ID}) {
		kinds[w.Kind]++
		if w.ProductID != withV.ID {
			t.Errorf("variant write %+v should carry the parent product id", w)
		}
	}
	if kinds[KindVariantUpdate] != 2 || kinds[KindVariantStock] != 1 {
		t.Errorf("variant writes by kind %v", kinds)
	}
	if n := len(sim.Writes(WriteFilter{ProductID: withV.ID})); n != 3 {
		t.Errorf("writes for the parent product %d, want its variants' 3", n)
	}
}
