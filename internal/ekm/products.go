package ekm

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"strconv"
)

// Product, stock and variant endpoints are at v1 (docs/ekm-api.md §4).
const productsPath = "/api/v1/products"

// productPath returns the path of one product, or of sub (e.g. "/stock") under it.
func productPath(id int64, sub string) string {
	return productsPath + "/" + strconv.FormatInt(id, 10) + sub
}

// variantPath returns the path of one variant of a product, or of sub under it.
func variantPath(productID, variantID int64, sub string) string {
	return productPath(productID, "/variants/"+strconv.FormatInt(variantID, 10)+sub)
}

// DecodeProduct decodes one product and checks that it has an id ≥ 1, the one
// field the listing download cannot do without. Its errors are KindInvalidData,
// so that a caller holding a page of raw products can report the broken one and
// store the rest.
func DecodeProduct(raw json.RawMessage) (Product, error) {
	p, err := decodeJSON[Product](raw)
	if err != nil {
		if e := AsError(err); e != nil {
			e.Kind = KindInvalidData // the page around it was fine
		}
		return Product{}, err
	}
	if p.ID < 1 {
		return Product{}, &Error{Kind: KindInvalidData, Err: fmt.Errorf("product id %d is not positive", p.ID)}
	}
	return p, nil
}

// ListProductsRaw fetches one page of GET /api/v1/products, keeping each
// product's JSON.
func (c *Client) ListProductsRaw(ctx context.Context, page, limit int) (Page[json.RawMessage], error) {
	return c.rawPage(ctx, productsPath, pageQuery(page, limit))
}

// ListProducts fetches one page of products; one malformed product fails the page.
func (c *Client) ListProducts(ctx context.Context, page, limit int) (Page[Product], error) {
	raw, err := c.ListProductsRaw(ctx, page, limit)
	return typedPage(raw, err, DecodeProduct, productsPath)
}

// ProductPages returns a PageFunc over the product list, for Pages: the listing
// download resumes at any page and commits page by page.
func (c *Client) ProductPages(limit int) PageFunc[json.RawMessage] {
	return func(ctx context.Context, page int) (Page[json.RawMessage], error) {
		return c.ListProductsRaw(ctx, page, limit)
	}
}

// AllProducts iterates over every product of the shop, decoded.
func (c *Client) AllProducts(ctx context.Context) iter.Seq2[Product, error] {
	return Items(ctx, func(ctx context.Context, page int) (Page[Product], error) {
		return c.ListProducts(ctx, page, MaxPageSize)
	})
}

// SearchProductsRaw fetches one page of GET /api/v1/products/search, whose Query
// EKM requires (e.g. "product_code eq 'TEST001'").
func (c *Client) SearchProductsRaw(ctx context.Context, opts SearchOptions) (Page[json.RawMessage], error) {
	return c.rawPage(ctx, productsPath+"/search", searchQuery(opts))
}

// SearchProducts fetches one page of a product search.
func (c *Client) SearchProducts(ctx context.Context, opts SearchOptions) (Page[Product], error) {
	raw, err := c.SearchProductsRaw(ctx, opts)
	return typedPage(raw, err, DecodeProduct, productsPath+"/search")
}

// GetProduct fetches one product. A variant's id gives KindUnprocessable.
func (c *Client) GetProduct(ctx context.Context, id int64) (Product, error) {
	return object(ctx, c, request{method: http.MethodGet, path: productPath(id, "")}, DecodeProduct)
}

// UpdateProduct replaces a product's fields (PUT /api/v1/products/{id}; Name is
// required) and returns the product. Start from Product.ToUpdate so that fields
// not meant to change keep their values. Options and variants are not touched.
func (c *Client) UpdateProduct(ctx context.Context, id int64, u UpdateProduct) (Product, error) {
	u.ID = id
	return object(ctx, c, request{method: http.MethodPut, path: productPath(id, ""), body: u}, DecodeProduct)
}

// ProductStock reads a product's stock.
func (c *Client) ProductStock(ctx context.Context, id int64) (ProductStock, error) {
	return object(ctx, c, request{method: http.MethodGet, path: productPath(id, "/stock")}, decodeJSON[ProductStock])
}

// stockUpdate is the body of PUT .../stock. Only id and stock are sent:
// total_product_stock is derived by EKM (ASSUMED, docs/ekm-api.md "Unknown").
type stockUpdate struct {
	ID    int64 `json:"id"`
	Stock int64 `json:"stock"`
}

// SetProductStock sets a product's stock level and returns what EKM stored.
func (c *Client) SetProductStock(ctx context.Context, id, stock int64) (ProductStock, error) {
	body := stockUpdate{ID: id, Stock: stock}
	return object(ctx, c, request{method: http.MethodPut, path: productPath(id, "/stock"), body: body}, decodeJSON[ProductStock])
}

// Variants fetches all the variants of a product.
func (c *Client) Variants(ctx context.Context, productID int64) ([]Variant, error) {
	return collect(ctx, c, productPath(productID, "/variants"), decodeJSON[Variant])
}

// UpdateVariant replaces a variant's fields (price etc.; PUT
// .../variants/{v.ID}) and returns the variant.
func (c *Client) UpdateVariant(ctx context.Context, productID int64, v Variant) (Variant, error) {
	v.ParentProductID = productID
	return object(ctx, c, request{method: http.MethodPut, path: variantPath(productID, v.ID, ""), body: v}, decodeJSON[Variant])
}

// SetVariantStock sets a variant's stock level and returns what EKM stored.
func (c *Client) SetVariantStock(ctx context.Context, productID, variantID, stock int64) (VariantStock, error) {
	body := VariantStock{ID: variantID, ParentProductID: productID, Stock: stock}
	return object(ctx, c, request{method: http.MethodPut, path: variantPath(productID, variantID, "/stock"), body: body}, decodeJSON[VariantStock])
}
