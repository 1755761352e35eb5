package ekmsim

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/ekmsync/ekmsync/internal/ekm"
)

// The admin Go API for the catalogue: create, change and delete products and
// variants, and read them back.

// ProductSpec describes a product to create; every field is optional and
// filled with generated data when left out.
type ProductSpec struct {
	Name string `json:"name,omitempty"`
	// ProductCode defaults to the next SKU-nnnnn; "" makes an empty SKU.
	ProductCode *string  `json:"product_code,omitempty"`
	Price       *float64 `json:"price,omitempty"`
	Stock       *int64   `json:"stock,omitempty"`
	Live        *bool    `json:"live,omitempty"`
	// Variants, if any, are created in order with ids after the product's.
	Variants []VariantSpec `json:"variants,omitempty"`
}

// VariantSpec describes a variant to create.
type VariantSpec struct {
	// Dimension and Choice make the variant combination, e.g. "Size" and
	// "Large"; defaults "Size" and "Option n".
	Dimension string `json:"dimension,omitempty"`
	Choice    string `json:"choice,omitempty"`
	// ProductCode defaults to the product's SKU, a dash and n.
	ProductCode *string  `json:"product_code,omitempty"`
	Price       *float64 `json:"price,omitempty"`
	Stock       *int64   `json:"stock,omitempty"`
}

// ProductPatch changes a product (or, given a variant's id, that variant)
// behind the client's back; nil fields are kept.
type ProductPatch struct {
	Name        *string  `json:"name,omitempty"`
	ProductCode *string  `json:"product_code,omitempty"`
	Price       *float64 `json:"price,omitempty"`
	RRP         *float64 `json:"rrp,omitempty"`
	Stock       *int64   `json:"stock,omitempty"`
	Live        *bool    `json:"live,omitempty"`
	// Variants patch the product's variants by id.
	Variants []VariantPatch `json:"variants,omitempty"`
}

// VariantPatch changes one variant; nil fields are kept.
type VariantPatch struct {
	ID          int64    `json:"id"`
	ProductCode *string  `json:"product_code,omitempty"`
	Price       *float64 `json:"price,omitempty"`
	Stock       *int64   `json:"stock,omitempty"`
	Live        *bool    `json:"live,omitempty"`
}

// CreateProduct adds a product (and its variants) with ids above every
// existing one.
func (s *Sim) CreateProduct(spec ProductSpec) ekm.Product {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.gen.newProduct(s.st, 0, s.now())
	p := &rec.product
	p.LastModified = ekm.Time{Time: s.now()} // made now, unlike the seeded catalogue's
	if spec.Name != "" {
		p.Name, p.SEOFriendlyURL = spec.Name, seoURL(spec.Name, p.ID)
	}
	setIfGiven(&p.ProductCode, spec.ProductCode)
	setIfGiven(&p.Price, spec.Price)
	setIfGiven(&p.NumberInStock, spec.Stock)
	setIfGiven(&p.Live, spec.Live)
	for i, vs := range spec.Variants {
		v := ekm.Variant{
			ID: s.st.nextID, ParentProductID: p.ID, ProductCode: fmt.Sprintf("%s-%d", p.ProductCode, i+1),
			IsDefaultVariant: i == 0, NumberInStock: int64(s.gen.stock()), Price: p.Price, ProductWeight: p.ProductWeight,
			Condition: "New", GTIN: s.gen.gtin(), Live: true,
			VariantCombinations: []ekm.VariantCombination{{
				VariantName: cmp.Or(vs.Dimension, "Size"), VariantChoice: cmp.Or(vs.Choice, fmt.Sprintf("Option %d", i+1)),
			}},
		}
		s.st.nextID++
		setIfGiven(&v.ProductCode, vs.ProductCode)
		setIfGiven(&v.Price, vs.Price)
		setIfGiven(&v.NumberInStock, vs.Stock)
		rec.variants = append(rec.variants, &variantRec{variant: v, parent: rec})
	}
	if len(spec.Variants) > 0 && spec.Stock == nil {
		p.NumberInStock = 0
	}
	s.st.addProduct(rec)
	return cloneProduct(rec.view())
}

// UpdateProduct changes a product, or the variant whose id is given, and
// returns the (parent) product.
func (s *Sim) UpdateProduct(id int64, patch ProductPatch) (ekm.Product, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := ekm.Time{Time: s.now()}
	if v := s.st.variantIdx[id]; v != nil {
		patchVariant(v, VariantPatch{ID: id, ProductCode: patch.ProductCode, Price: patch.Price, Stock: patch.Stock, Live: patch.Live})
		s.st.touchProduct(v.parent, now.Time)
		return cloneProduct(v.parent.view()), nil
	}
	rec := s.st.productIdx[id]
	if rec == nil {
		return ekm.Product{}, fmt.Errorf("ekmsim: product %d: %w", id, ErrNotFound)
	}
	for _, vp := range patch.Variants {
		if v := s.st.variantIdx[vp.ID]; v == nil || v.parent != rec {
			return ekm.Product{}, fmt.Errorf("ekmsim: variant %d of product %d: %w", vp.ID, id, ErrNotFound)
		}
	}
	p := rec.product
	setIfGiven(&p.Name, patch.Name)
	setIfGiven(&p.ProductCode, patch.ProductCode)
	setIfGiven(&p.Price, patch.Price)
	setIfGiven(&p.RRP, patch.RRP)
	setIfGiven(&p.NumberInStock, patch.Stock)
	setIfGiven(&p.Live, patch.Live)
	p.LastModified = now
	s.st.setProduct(rec, p)
	for _, vp := range patch.Variants {
		patchVariant(s.st.variantIdx[vp.ID], vp)
	}
	return cloneProduct(rec.view()), nil
}

// patchVariant applies a patch to a variant, replacing its value.
func patchVariant(v *variantRec, vp VariantPatch) {
	upd := v.variant
	setIfGiven(&upd.ProductCode, vp.ProductCode)
	setIfGiven(&upd.Price, vp.Price)
	setIfGiven(&upd.NumberInStock, vp.Stock)
	setIfGiven(&upd.Live, vp.Live)
	v.variant = upd
}

// DeleteProduct removes a product with its variants, or one variant.
func (s *Sim) DeleteProduct(id int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v := s.st.variantIdx[id]; v != nil {
		s.st.removeVariant(v)
		s.st.touchProduct(v.parent, s.now())
		return nil
	}
	rec := s.st.productIdx[id]
	if rec == nil {
		return fmt.Errorf("ekmsim: product %d: %w", id, ErrNotFound)
	}
	s.st.removeProduct(rec)
	return nil
}

// Product returns a master product as the API serves it (variants nested).
func (s *Sim) Product(id int64) (ekm.Product, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	rec := s.st.productIdx[id]
	if rec == nil {
		return ekm.Product{}, false
	}
	return cloneProduct(rec.view()), true
}

// Variant returns a variant by its id.
func (s *Sim) Variant(id int64) (ekm.Variant, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	v := s.st.variantIdx[id]
	if v == nil {
		return ekm.Variant{}, false
	}
	return cloneVariant(v.variant), true
}

// Products returns every master product in ascending id order.
func (s *Sim) Products() []ekm.Product {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]ekm.Product, len(s.st.products))
	for i, rec := range s.st.products {
		out[i] = cloneProduct(rec.view())
	}
	return out
}

// cloneProduct deep-copies the pointers and slices of a product.
func cloneProduct(p ekm.Product) ekm.Product {
	p.CategoryID, p.TaxRateID, p.ParentProductID = clonePtr(p.CategoryID), clonePtr(p.TaxRateID), clonePtr(p.ParentProductID)
	p.Options = slices.Clone(p.Options)
	for i := range p.Options {
		p.Options[i].OptionItems = slices.Clone(p.Options[i].OptionItems)
	}
	p.Categories, p.AttributeItems = slices.Clone(p.Categories), slices.Clone(p.AttributeItems)
	p.Variants = slices.Clone(p.Variants)
	for i := range p.Variants {
		p.Variants[i] = cloneVariant(p.Variants[i])
	}
	return p
}

// cloneVariant deep-copies a variant's combinations.
func cloneVariant(v ekm.Variant) ekm.Variant {
	v.VariantCombinations = slices.Clone(v.VariantCombinations)
	return v
}

// setIfGiven sets *dst to *v when v is not nil.
func setIfGiven[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}
