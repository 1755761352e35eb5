package chaos

import (
	"strings"

	"github.com/ekmsync/ekmsync/internal/ekm"
	"github.com/ekmsync/ekmsync/internal/store"
)

// shopListing is one sellable SKU of the shop: a product without variants, or a
// variant, with what the shop shows of it.
type shopListing struct {
	store.ListingKey
	SKU   string
	Stock int64
	Price store.Pennies
}

// catalog is the shop's listings, and the SKUs the hub may manage: those of
// exactly one listing (an empty or duplicated SKU is never sent to).
type catalog struct {
	listings []shopListing
	unique   []string // SKUs of exactly one listing, in catalogue order
	count    map[string]int
}

// listingsOf flattens products into listings, as the listing download does.
func listingsOf(products []ekm.Product) []shopListing {
	var out []shopListing
	for _, p := range products {
		if len(p.Variants) == 0 {
			out = append(out, shopListing{ListingKey: store.ListingKey{ProductID: p.ID}, SKU: strings.TrimSpace(p.ProductCode),
				Stock: p.NumberInStock, Price: store.PenniesOf(p.Price)})
			continue
		}
		for _, v := range p.Variants {
			out = append(out, shopListing{ListingKey: store.ListingKey{ProductID: p.ID, VariantID: v.ID},
				SKU: strings.TrimSpace(v.ProductCode), Stock: v.NumberInStock, Price: store.PenniesOf(v.Price)})
		}
	}
	return out
}

func newCatalog(products []ekm.Product) catalog {
	c := catalog{listings: listingsOf(products), count: map[string]int{}}
	for _, l := range c.listings {
		if l.SKU != "" {
			c.count[l.SKU]++
		}
	}
	for _, l := range c.listings {
		if c.count[l.SKU] == 1 {
			c.unique = append(c.unique, l.SKU)
		}
	}
	return c
}

// problem is the SKU problem the hub should record for sku.
func (c catalog) problem(sku string) string {
	switch {
	case sku == "":
		return "empty"
	case c.count[sku] > 1:
		return "duplicate"
	}
	return ""
}
