package ekm

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/url"
	"strconv"
)

// MaxPageSize is the most items EKM returns per page on every list and search
// endpoint (docs/ekm-api.md §7); a larger limit is clamped to it.
const MaxPageSize = 20

// Bounds of the item lists that take no limit (an order's items, a product's
// variants, the webhooks): EKM documents none, and an answer beyond them is a
// misbehaving or hostile shop, never a real order or product.
const (
	// MaxCollectItems is the most items such a list may hold in all.
	MaxCollectItems = 1000
	// MaxCollectPages is the most pages such a list may span.
	MaxCollectPages = 50
)

// SearchOptions are the parameters of EKM's search endpoints.
type SearchOptions struct {
	// Query is an OData filter, e.g. "status eq 'PENDING'".
	Query string
	// OrderBy is a field name, "-" first for descending, e.g. "id".
	OrderBy string
	// Page is 1-based; 0 means 1.
	Page int
	// Limit is the page size, at most MaxPageSize; 0 means MaxPageSize.
	Limit int
}

// Page is one page of a list or search endpoint.
type Page[T any] struct {
	// Number is the 1-based page that was asked for (EKM's meta has no current
	// page).
	Number int
	// Items are the page's records.
	Items []T
	// Meta is EKM's paging meta: pages_total, items_total, items_per_page.
	Meta ListMeta
}

// Last reports whether no page follows this one: it was empty, or its number
// reached meta.pages_total. A response without pages_total (a malformed meta) ends
// only on a short page, so that it never cuts a listing short, which would mark
// the rest of the shop removed. EKM's links are never followed: their hrefs lack
// the /api/vN prefix.
func (p Page[T]) Last() bool {
	switch {
	case len(p.Items) == 0:
		return true
	case p.Meta.PagesTotal > 0:
		return p.Number >= p.Meta.PagesTotal
	}
	size := p.Meta.ItemsPerPage
	if size <= 0 {
		size = MaxPageSize
	}
	return len(p.Items) < size
}

// PageFunc fetches one page by its 1-based number.
type PageFunc[T any] func(ctx context.Context, page int) (Page[T], error)

// Pages iterates over the pages from first (1 if less) until the last. An error
// is yielded once, with a zero page, and ends the iteration. A caller that
// commits page by page records the number of the last committed page and resumes
// with first set to the next one.
func Pages[T any](ctx context.Context, first int, fetch PageFunc[T]) iter.Seq2[Page[T], error] {
	return func(yield func(Page[T], error) bool) {
		for n := max(first, 1); ; n++ {
			p, err := fetch(ctx, n)
			if err != nil {
				yield(Page[T]{Number: n}, err)
				return
			}
			if !yield(p, nil) || p.Last() {
				return
			}
		}
	}
}

// Items iterates over every item of every page from page 1. An error is yielded
// once and ends the iteration.
func Items[T any](ctx context.Context, fetch PageFunc[T]) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for p, err := range Pages(ctx, 1, fetch) {
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, item := range p.Items {
				if !yield(item, nil) {
					return
				}
			}
		}
	}
}

// pageQuery returns the page and limit parameters, normalised.
func pageQuery(page, limit int) url.Values {
	if limit <= 0 || limit > MaxPageSize {
		limit = MaxPageSize
	}
	return url.Values{"page": {strconv.Itoa(max(page, 1))}, "limit": {strconv.Itoa(limit)}}
}

// searchQuery returns the parameters of a search endpoint.
func searchQuery(opts SearchOptions) url.Values {
	q := pageQuery(opts.Page, opts.Limit)
	if opts.Query != "" {
		q.Set("query", opts.Query)
	}
	if opts.OrderBy != "" {
		q.Set("orderby", opts.OrderBy)
	}
	return q
}

// rawPage fetches one page of a list endpoint, keeping each item's JSON.
func (c *Client) rawPage(ctx context.Context, path string, q url.Values) (Page[json.RawMessage], error) {
	env, err := c.call(ctx, request{method: "GET", path: path, query: q})
	if err != nil {
		return Page[json.RawMessage]{}, err
	}
	n, _ := strconv.Atoi(q.Get("page"))
	p, err := decodeListPage(env, max(n, 1))
	if err != nil {
		return Page[json.RawMessage]{}, located(err, "GET", path)
	}
	if limit, _ := strconv.Atoi(q.Get("limit")); limit > 0 && len(p.Items) > limit {
		// A page longer than asked for is not a page of this list: cutting it
		// would hide items, and using it would misplace every page after it.
		return Page[json.RawMessage]{}, &Error{Kind: KindRetryable, Method: "GET", Path: path,
			Err: fmt.Errorf("%w: page %d has %d items, %d asked for", ErrPageTooLong, p.Number, len(p.Items), limit)}
	}
	return p, nil
}

// collect fetches every page of a list endpoint that takes no limit (an order's
// items, a product's variants, the webhooks) and decodes all items.
func collect[T any](ctx context.Context, c *Client, path string, decode func(json.RawMessage) (T, error)) ([]T, error) {
	var all []T
	fetch := func(ctx context.Context, n int) (Page[json.RawMessage], error) {
		// ASSUMED: these endpoints page like the list endpoints when they page at
		// all (their examples carry paging meta but no page parameter is
		// documented), so page is sent and limit is left to EKM.
		q := url.Values{}
		if n > 1 {
			q.Set("page", strconv.Itoa(n))
		}
		return c.rawPage(ctx, path, q)
	}
	for p, err := range Pages(ctx, 1, fetch) {
		if err != nil {
			return nil, err
		}
		if p.Number > MaxCollectPages || len(all)+len(p.Items) > MaxCollectItems {
			// KindInvalidData: fetching it again brings the same list, so the
			// caller quarantines what it belongs to.
			return nil, &Error{Kind: KindInvalidData, Method: "GET", Path: path,
				Err: fmt.Errorf("%w: over %d items or %d pages", ErrPageTooLong, MaxCollectItems, MaxCollectPages)}
		}
		typed, err := decodePage(p, decode)
		if err != nil {
			return nil, located(err, "GET", path)
		}
		all = append(all, typed.Items...)
	}
	return all, nil
}
