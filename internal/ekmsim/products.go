package ekmsim

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/ekmsync/ekmsync/internal/ekm"
)

// Products v1: one product, its update and its stock. List and search are
// served by productCollection (collection.go), variants by variants.go. A variant's id given to a product endpoint is
// a 422 naming the master product, as on EKM.

// getProduct serves GET /api/v1/products/{id}.
func (s *Sim) getProduct(w http.ResponseWriter, r *http.Request) {
	p, aerr := lookup(s, productAt(r), (*productRec).view)
	answer(w, p, aerr)
}

// getProductStock serves GET /api/v1/products/{id}/stock.
func (s *Sim) getProductStock(w http.ResponseWriter, r *http.Request) {
	st, aerr := lookup(s, productAt(r), (*productRec).stock)
	answer(w, st, aerr)
}

// putProduct serves PUT /api/v1/products/{id} with a V1UpdateProduct body.
// name is required; the other fields the body carries are set and the rest
// kept (ASSUMED, see assumed.go).
func (s *Sim) putProduct(w http.ResponseWriter, r *http.Request) {
	fields, body, ok := decodeBody(w, r, func(fields *map[string]json.RawMessage) *apiError {
		var name string
		if json.Unmarshal((*fields)["name"], &name) != nil || strings.TrimSpace(name) == "" {
			return badRequest([]string{"name"}, "The name field is required.")
		}
		return nil
	})
	if !ok {
		return
	}
	out, aerr := mutate(s, productAt(r), func(rec *productRec) (ekm.Product, *apiError) {
		upd := rec.product.ToUpdate()
		upd.CategoryID = clonePtr(upd.CategoryID) // Unmarshal writes through pointers
		if aerr := mergeBody(body, fields, &upd, []idCheck{{"id", rec.product.ID}}, func() amounts {
			return amounts{upd.Price, upd.RRP, upd.ProductWeight}
		}); aerr != nil {
			return ekm.Product{}, aerr
		}
		p := rec.product
		applyUpdate(&p, upd)
		p.LastModified = ekm.Time{Time: s.now()}
		s.st.setProduct(rec, p)
		return rec.view(), nil
	})
	if aerr == nil {
		s.record(r, KindProductUpdate, body, Write{ProductID: out.ID})
	}
	answer(w, out, aerr)
}

// putProductStock serves PUT /api/v1/products/{id}/stock: it sets the
// product's own stock; total_product_stock in the body is ignored (ASSUMED,
// see totalIncludesVariants in assumed.go).
func (s *Sim) putProductStock(w http.ResponseWriter, r *http.Request) {
	req, body, ok := decodeBody(w, r, func(req *stockBody) *apiError { return checkStock(req.Stock) })
	if !ok {
		return
	}
	out, aerr := mutate(s, productAt(r), func(rec *productRec) (ekm.ProductStock, *apiError) {
		if mismatched(req.ID, rec.product.ID) {
			return ekm.ProductStock{}, badRequest([]string{"id"}, idMismatchMessage)
		}
		p := rec.product
		p.NumberInStock = *req.Stock
		p.LastModified = ekm.Time{Time: s.now()}
		s.st.setProduct(rec, p)
		return rec.stock(), nil
	})
	if aerr == nil {
		s.record(r, KindProductStock, body, Write{ProductID: out.ID})
	}
	answer(w, out, aerr)
}

// applyUpdate copies the fields a V1UpdateProduct carries into p, except the
// ones the simulator derives (id, total_product_stock, last_modified).
func applyUpdate(p *ekm.Product, u ekm.UpdateProduct) {
	p.CategoryID, p.Name, p.Description, p.ShortDescription = u.CategoryID, u.Name, u.Description, u.ShortDescription
	p.NumberInStock, p.Price, p.RRP, p.ProductCode = u.NumberInStock, u.Price, u.RRP, u.ProductCode
	p.ChargeDelivery, p.SpecialOffer, p.Brand, p.Condition = u.ChargeDelivery, u.SpecialOffer, u.Brand, u.Condition
	p.GTIN, p.MPN, p.ProductWeight, p.CanBeAddedToCart = u.GTIN, u.MPN, u.ProductWeight, u.CanBeAddedToCart
	p.TaxApplicable, p.Live, p.OrderNote, p.RedirectURL = u.TaxApplicable, u.Live, u.OrderNote, u.RedirectURL
	p.MetaDescription, p.MetaKeywords, p.MetaTitle = u.MetaDescription, u.MetaKeywords, u.MetaTitle
}

// clonePtr returns a pointer to a copy of *p (nil for nil).
func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// stockBody is the body of the stock PUTs (V1ProductStock and
// V1ProductVariantStock); pointers tell a missing field from zero.
type stockBody struct {
	ID              *int64 `json:"id"`
	ParentProductID *int64 `json:"parent_product_id"`
	Stock           *int64 `json:"stock"`
}

// idCheck names a body id field and the value the path implies.
type idCheck struct {
	field string
	want  int64
}

// amounts are the price, rrp and product_weight of a product or variant
// body; none may be negative ([SW] minimum 0).
type amounts struct {
	price, rrp, weight float64
}

// mergeBody decodes body over dst, so the fields the body carries replace
// dst's and the others stay (ASSUMED, see assumed.go), then
// checks that the body's ids match the path and no amount is negative.
func mergeBody(body []byte, fields map[string]json.RawMessage, dst any, ids []idCheck, after func() amounts) *apiError {
	if json.Unmarshal(body, dst) != nil {
		return badRequest(nil, invalidBodyMessage)
	}
	for _, c := range ids {
		var got *int64
		if json.Unmarshal(fields[c.field], &got) == nil && mismatched(got, c.want) {
			return badRequest([]string{c.field}, idMismatchMessage)
		}
	}
	a := after()
	for _, f := range []struct {
		name string
		v    float64
	}{{"price", a.price}, {"rrp", a.rrp}, {"product_weight", a.weight}} {
		if f.v < 0 {
			return badRequest([]string{f.name}, "The field "+f.name+" must be between 0 and 1.7976931348623157E+308.")
		}
	}
	return nil
}

// mismatched reports whether a body id is set, non-zero and not want.
func mismatched(got *int64, want int64) bool { return got != nil && *got != 0 && *got != want }

// checkStock is a 400 when a stock body has no stock or a negative one.
func checkStock(stock *int64) *apiError {
	switch {
	case stock == nil:
		return badRequest([]string{"stock"}, "The stock field is required.")
	case *stock < 0:
		return badRequest([]string{"stock"}, negativeStockMessage)
	}
	return nil
}

// productByPath finds the master product a path id names: 404 if none, 422
// if the id is a variant's. The caller holds s.mu.
func (st *store) productByPath(raw string) (*productRec, *apiError) {
	if id, ok := parseID(raw); ok {
		if rec := st.productIdx[id]; rec != nil {
			return rec, nil
		}
		if v := st.variantIdx[id]; v != nil {
			return nil, &apiError{status: http.StatusUnprocessableEntity, members: []string{"id"},
				message: variantMessage(id, v.parent.product.ID)}
		}
	}
	return nil, notFound("Product", raw)
}
