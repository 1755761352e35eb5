package activities

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/ekmsync/ekmsync/internal/ekm"
	"github.com/ekmsync/ekmsync/internal/store"
)

// ListingsOf turns a page of products into listings, one per sellable SKU: a
// product without variants, or each variant of a product with variants. SKUs are
// trimmed, so that stray spaces in EKM do not stop the link to the stock item.
// Products that cannot be read are returned as errors, and counted.
func ListingsOf(raw []json.RawMessage) ([]store.Listing, []error) {
	out := make([]store.Listing, 0, len(raw))
	var bad []error
	for _, item := range raw {
		p, err := ekm.DecodeProduct(item)
		if err != nil {
			bad = append(bad, err)
			continue
		}
		if len(p.Variants) == 0 {
			out = append(out, store.Listing{ProductID: p.ID, SKU: trimSKU(p.ProductCode), Name: p.Name, Live: p.Live,
				Price: p.Price, Stock: p.NumberInStock})
			continue
		}
		for _, v := range p.Variants {
			if v.ID < 1 {
				bad = append(bad, fmt.Errorf("product %d has a variant with id %d", p.ID, v.ID))
				continue
			}
			out = append(out, store.Listing{ProductID: p.ID, VariantID: v.ID, SKU: trimSKU(v.ProductCode), Name: p.Name,
				VariantName: variantName(v), Live: p.Live && v.Live, Price: v.Price, Stock: v.NumberInStock})
		}
	}
	return out, bad
}

// variantName names a variant by its combination, e.g. "Size: Large, Colour: Red".
func variantName(v ekm.Variant) string {
	name := ""
	for i, c := range v.VariantCombinations {
		if i > 0 {
			name += ", "
		}
		name += c.VariantName + ": " + c.VariantChoice
	}
	return name
}

// trimSKU is the SKU a listing links by.
func trimSKU(s string) string { return strings.TrimSpace(s) }
