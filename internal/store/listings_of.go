package store

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/ekmsync/ekmsync/internal/ekm"
)

// ListingsOf turns a page of products into listings, one per sellable SKU: a
// product without variants, or each variant of a product with variants. SKUs are
// trimmed, so that stray spaces in EKM do not stop the link to the stock item.
// Products that cannot be read are returned as errors, and counted.
func ListingsOf(raw []json.RawMessage) ([]Listing, []error) {
	out := make([]Listing, 0, len(raw))
	var bad []error
	for _, item := range raw {
		p, err := ekm.DecodeProduct(item)
		if err != nil {
			bad = append(bad, productError(item, err))
			continue
		}
		if len(p.Variants) == 0 {
			out = append(out, Listing{ProductID: p.ID, SKU: trimSKU(p.ProductCode), Name: p.Name, Live: p.Live,
				Price: p.Price, Stock: p.NumberInStock})
			continue
		}
		for _, v := range p.Variants {
			if v.ID < 1 {
				bad = append(bad, &ProductError{Key: ProductKey(p.ID), ProductID: p.ID,
					Err: fmt.Errorf("product %d has a variant with id %d", p.ID, v.ID)})
				continue
			}
			out = append(out, Listing{ProductID: p.ID, VariantID: v.ID, SKU: trimSKU(v.ProductCode), Name: p.Name,
				VariantName: variantName(v), Live: p.Live && v.Live, Price: v.Price, Stock: v.NumberInStock})
		}
	}
	return out, bad
}

// ProblemsOf are the problem records of the products ListingsOf could not
// read: each keyed by its product (or a hash of its JSON), with the first line
// of why, made storable and at most 500 bytes.
func ProblemsOf(bad []error) []ProductProblem {
	out := make([]ProductProblem, 0, len(bad))
	for _, err := range bad {
		msg, _, _ := strings.Cut(err.Error(), "\n")
		pr := ProductProblem{Key: "unknown", Reason: truncate(Storable(msg), 500)}
		if pe, ok := err.(*ProductError); ok {
			pr.Key = pe.Key
			if pe.ProductID > 0 {
				id := pe.ProductID
				pr.ProductID = &id
			}
		}
		out = append(out, pr)
	}
	return out
}

// ProductError is a product of a page that could not be read: its problem key
// (ProductKey, or a hash of its JSON when it has no readable id) and why.
type ProductError struct {
	Key       string
	ProductID int64 // 0 when unknown
	Err       error
}

// Error says why the product could not be read.
func (e *ProductError) Error() string { return e.Err.Error() }

// Unwrap returns the cause.
func (e *ProductError) Unwrap() error { return e.Err }

// productError names the product of raw that failed to decode with err.
func productError(raw json.RawMessage, err error) *ProductError {
	var partial struct {
		ID int64 `json:"id"`
	}
	if json.Unmarshal(raw, &partial) == nil && partial.ID > 0 {
		return &ProductError{Key: ProductKey(partial.ID), ProductID: partial.ID, Err: err}
	}
	sum := sha256.Sum256(raw)
	return &ProductError{Key: "sha256:" + hex.EncodeToString(sum[:8]), Err: err}
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
