package ekmsim

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ekmsync/ekmsync/internal/ekm"
)

// Product generation: a UK gift and clothing shop whose SKUs look like
// SKU-00042, with variants SKU-00042-L carrying one variant combination.

func ptrTo[T any](v T) *T { return &v }

// newProduct generates a product with the given number of variants (0 for a
// plain product), allocating its id and its variants' ids from the shared id
// space, so variant ids sit between product ids as on EKM.
func (g *generator) newProduct(st *store, variants int, now time.Time) *productRec {
	kind := pick(g, productKinds)
	for variants > 0 && kind.dimension == "" {
		kind = pick(g, productKinds)
	}
	st.productSeq++
	id := st.nextID
	st.nextID++
	name := fmt.Sprintf("%s %s %s", pick(g, productAdjectives), pick(g, productMaterials), kind.noun)
	price := g.price(kind.minPrice, kind.maxPrice)
	taxRate := taxRateStandard
	if kind.zeroRated {
		taxRate = taxRateZero
	}
	category := int64(slices.IndexFunc(productKinds, func(k productKind) bool { return k.noun == kind.noun }) + 1)
	p := ekm.Product{
		ID:               id,
		CategoryID:       ptrTo(category),
		Name:             name,
		Description:      kind.description,
		ShortDescription: "",
		NumberInStock:    int64(g.stock()),
		Price:            price,
		RRP:              0,
		ProductCode:      fmt.Sprintf("SKU-%05d", st.productSeq),
		ChargeDelivery:   kind.weightKg > 0,
		Brand:            pick(g, brands),
		Condition:        "New",
		GTIN:             g.gtin(),
		ProductWeight:    kind.weightKg,
		CanBeAddedToCart: true,
		TaxApplicable:    !kind.zeroRated,
		TaxRateID:        ptrTo(taxRate),
		Live:             g.chance(0.9),
		LastModified:     ekm.Time{Time: ekmTime(now.Add(-time.Duration(g.rng.Int64N(int64(180 * 24 * time.Hour)))))},
		ParentProductID:  ptrTo(masterParentProductID),
		Options:          []ekm.ProductOption{},
		Categories:       []ekm.ProductCategory{{CategoryID: category}},
		AttributeItems:   []json.RawMessage{},
		OrderLocation:    int64(st.productSeq),
		SEOFriendlyURL:   seoURL(name, id),
	}
	if g.chance(0.2) {
		p.RRP = money(price * 1.25)
		p.SpecialOffer = g.chance(0.5)
	}
	if g.chance(0.05) {
		p.Options = g.giftWrapOption(st, id)
	}
	rec := &productRec{product: p}
	if variants > 0 {
		rec.product.NumberInStock = 0 // the variants hold the stock
		rec.variants = g.newVariants(st, rec, kind, variants)
	}
	return rec
}

// newVariants generates n variants of rec along the kind's dimension.
func (g *generator) newVariants(st *store, rec *productRec, kind productKind, n int) []*variantRec {
	choices := variantChoices[kind.dimension]
	picked := g.rng.Perm(len(choices))[:min(n, len(choices))]
	slices.Sort(picked) // keep the natural order: Small before Large
	out := make([]*variantRec, 0, len(picked))
	for i, c := range picked {
		ch := choices[c]
		price := rec.product.Price
		if kind.dimension == "Size" && (ch.suffix == "L" || ch.suffix == "XL") {
			price = money(price + 2)
		}
		v := ekm.Variant{
			ID:                  st.nextID,
			ParentProductID:     rec.product.ID,
			ProductCode:         rec.product.ProductCode + "-" + ch.suffix,
			RRP:                 rec.product.RRP,
			IsDefaultVariant:    i == 0,
			NumberInStock:       int64(g.stock()),
			Price:               price,
			ProductWeight:       rec.product.ProductWeight,
			Condition:           "New",
			GTIN:                g.gtin(),
			Live:                true,
			VariantCombinations: []ekm.VariantCombination{{VariantName: kind.dimension, VariantChoice: ch.name}},
		}
		st.nextID++
		out = append(out, &variantRec{variant: v, parent: rec})
	}
	return out
}

// giftWrapOption is the customer option some products carry.
func (g *generator) giftWrapOption(st *store, productID int64) []ekm.ProductOption {
	id := st.nextOption
	st.nextOption += 3
	return []ekm.ProductOption{{
		ID: id, ProductID: productID, Name: "Gift Wrapping", Type: "DROPDOWN", Size: 1,
		OptionItems: []ekm.ProductOptionItem{
			{ID: id + 1, ProductOptionID: id, Name: "No thanks", Price: 0},
			{ID: id + 2, ProductOptionID: id, Name: "Gift wrap and card", Price: 3.5},
		},
	}}
}

// stock returns a stock level: mostly a few dozen, sometimes none.
func (g *generator) stock() int {
	if g.chance(0.08) {
		return 0
	}
	return g.between(1, 120)
}

// gtin returns an EAN-13 with the UK prefix 50 and a valid check digit.
func (g *generator) gtin() string {
	s := "50" + g.digits(10)
	sum := 0
	for i, c := range s {
		d := int(c - '0')
		if i%2 == 1 {
			d *= 3
		}
		sum += d
	}
	return s + string(rune('0'+(10-sum%10)%10))
}

// seoURL is EKM's page name for a product, e.g. "classic-cotton-mug-42-p.asp".
func seoURL(name string, id int64) string {
	words := strings.FieldsFunc(strings.ToLower(name), func(r rune) bool {
		return (r < 'a' || r > 'z') && (r < '0' || r > '9')
	})
	return fmt.Sprintf("%s-%d-p.asp", strings.Join(words, "-"), id)
}

// seedProducts generates the catalogue and then gives SKUProblems listings an
// empty or a duplicate SKU.
func seedProducts(st *store, g *generator, o Options, now time.Time) {
	for range o.Products {
		variants := 0
		if g.chance(o.VariantShare) {
			variants = g.between(2, 4)
		}
		st.addProduct(g.newProduct(st, variants, now))
	}
	seedSKUProblems(st, g, o.SKUProblems)
}

// seedSKUProblems empties the SKU of half the chosen listings and copies the
// SKU of a listing that was not chosen into the rest, so every problem stays
// the problem it was made to be.
func seedSKUProblems(st *store, g *generator, n int) {
	codes := listingCodes(st)
	n = min(n, len(codes)-1)
	if n <= 0 {
		return
	}
	perm := g.rng.Perm(len(codes))
	chosen, untouched := perm[:n], perm[n:]
	for i, idx := range chosen {
		code := ""
		if i >= n/2 {
			code = *codes[pick(g, untouched)]
		}
		*codes[idx] = code
	}
}

// listingCodes returns a pointer to every listing's SKU, products first then
// their variants, in id order. Only seeding writes through them, before the
// store is shared.
func listingCodes(st *store) []*string {
	var codes []*string
	for _, p := range st.products {
		codes = append(codes, &p.product.ProductCode)
		for _, v := range p.variants {
			codes = append(codes, &v.variant.ProductCode)
		}
	}
	return codes
}
