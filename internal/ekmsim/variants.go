package ekmsim

import (
	"encoding/json"
	"net/http"
	"slices"

	"github.com/ekmsync/ekmsync/internal/ekm"
)

// Variants v1: a product's variants, one variant, its update and its stock.
// Variants share the products' id space; their stock counts in the parent's
// total_product_stock.

// listVariants serves GET /api/v1/products/{id}/variants: all on one page.
func (s *Sim) listVariants(w http.ResponseWriter, r *http.Request) {
	vs, aerr := lookup(s, productAt(r), func(p *productRec) []ekm.Variant { return p.view().Variants })
	if aerr != nil {
		aerr.write(w)
		return
	}
	writeAll(w, r, vs)
}

// getVariant serves GET /api/v1/products/{id}/variants/{variantId}.
func (s *Sim) getVariant(w http.ResponseWriter, r *http.Request) {
	v, aerr := lookup(s, variantAt(r), func(v *variantRec) ekm.Variant { return v.variant })
	answer(w, v, aerr)
}

// getVariantStock serves GET /api/v1/products/{id}/variants/{variantId}/stock.
func (s *Sim) getVariantStock(w http.ResponseWriter, r *http.Request) {
	v, aerr := lookup(s, variantAt(r), (*variantRec).stock)
	answer(w, v, aerr)
}

// putVariant serves PUT /api/v1/products/{id}/variants/{variantId} with a
// V1ProductVariant body: the fields it carries are set, the rest kept
// (ASSUMED, as for products, see assumed.go); id and parent_product_id must
// match the path.
func (s *Sim) putVariant(w http.ResponseWriter, r *http.Request) {
	fields, body, ok := decodeBody[map[string]json.RawMessage](w, r, nil)
	if !ok {
		return
	}
	out, aerr := mutate(s, variantAt(r), func(v *variantRec) (ekm.Variant, *apiError) {
		upd := v.variant
		upd.VariantCombinations = slices.Clone(upd.VariantCombinations) // Unmarshal reuses backing arrays
		ids := []idCheck{{"id", v.variant.ID}, {"parent_product_id", v.variant.ParentProductID}}
		if aerr := mergeBody(body, fields, &upd, ids, func() amounts {
			return amounts{upd.Price, upd.RRP, upd.ProductWeight}
		}); aerr != nil {
			return ekm.Variant{}, aerr
		}
		upd.ID, upd.ParentProductID = v.variant.ID, v.variant.ParentProductID
		v.variant = upd
		s.st.touchProduct(v.parent, s.now())
		return upd, nil
	})
	if aerr == nil {
		s.record(r, KindVariantUpdate, body, Write{ProductID: out.ParentProductID, VariantID: out.ID})
	}
	answer(w, out, aerr)
}

// putVariantStock serves PUT /api/v1/products/{id}/variants/{variantId}/stock.
func (s *Sim) putVariantStock(w http.ResponseWriter, r *http.Request) {
	req, body, ok := decodeBody(w, r, func(req *stockBody) *apiError { return checkStock(req.Stock) })
	if !ok {
		return
	}
	out, aerr := mutate(s, variantAt(r), func(v *variantRec) (ekm.VariantStock, *apiError) {
		if mismatched(req.ID, v.variant.ID) {
			return ekm.VariantStock{}, badRequest([]string{"id"}, idMismatchMessage)
		}
		if mismatched(req.ParentProductID, v.variant.ParentProductID) {
			return ekm.VariantStock{}, badRequest([]string{"parent_product_id"}, idMismatchMessage)
		}
		upd := v.variant
		upd.NumberInStock = *req.Stock
		v.variant = upd
		s.st.touchProduct(v.parent, s.now())
		return v.stock(), nil
	})
	if aerr == nil {
		s.record(r, KindVariantStock, body, Write{ProductID: out.ParentProductID, VariantID: out.ID})
	}
	answer(w, out, aerr)
}

// variantOf finds variant raw of product p: 404 if p has no such variant.
// The caller holds s.mu.
func (st *store) variantOf(p *productRec, raw string) (*variantRec, *apiError) {
	if id, ok := parseID(raw); ok {
		if v := st.variantIdx[id]; v != nil && v.parent == p {
			return v, nil
		}
	}
	return nil, &apiError{status: http.StatusNotFound, members: []string{"variantId"}, message: notFoundMessage("Variant", raw)}
}
