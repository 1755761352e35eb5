package ekmsim

import (
	"iter"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/ekmsync/ekmsync/internal/ekm"
)

// pageReq is a validated page request: 1-based page, limit 1..20.
type pageReq struct {
	page, limit int
}

// parsePaging reads page and limit from the query string.
func parsePaging(q url.Values) (pageReq, *apiError) {
	p := pageReq{page: 1, limit: defaultLimit}
	if s := q.Get("page"); s != "" {
		n, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			return p, badRequest([]string{"page"}, notValidMessage(s, "page"))
		}
		if n < 1 {
			return p, badRequest([]string{"page"}, pageRangeMessage)
		}
		p.page = int(n)
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			return p, badRequest([]string{"limit"}, notValidMessage(s, "limit"))
		}
		if n < 1 || n > maxLimit {
			return p, badRequest([]string{"limit"}, limitRangeMessage)
		}
		p.limit = int(n)
	}
	return p, nil
}

// window returns the [start, end) bounds of the page within total items.
func (p pageReq) window(total int) (start, end int) {
	start = min((p.page-1)*p.limit, total)
	return start, min(start+p.limit, total)
}

// pagesTotal is how many pages of p.limit hold total items.
func (p pageReq) pagesTotal(total int) int {
	if total == 0 {
		return emptyPagesTotal
	}
	return (total + p.limit - 1) / p.limit
}

// pageOf returns the requested page of all, walked ascending or (desc)
// descending, and the total.
func pageOf[T any](all []T, desc bool, p pageReq) ([]T, int) {
	start, end := p.window(len(all))
	page := make([]T, 0, end-start)
	for i := start; i < end; i++ {
		if desc {
			page = append(page, all[len(all)-1-i])
		} else {
			page = append(page, all[i])
		}
	}
	return page, len(all)
}

// parseSearch reads the query (required or not) and orderby parameters of a
// search over fields: the filter, the sort field (id by default) and whether
// it is descending ("-" prefix).
func parseSearch(q url.Values, fields Fields, queryRequired bool) (expr Expr, field string, desc bool, aerr *apiError) {
	if qs := q.Get("query"); qs != "" {
		e, err := Parse(qs, fields)
		if err != nil {
			return nil, "", false, badRequest(nil, invalidSearchMessage)
		}
		expr = e
	} else if queryRequired {
		return nil, "", false, badRequest([]string{"query"}, queryRequiredMessage)
	}
	field = strings.TrimSpace(q.Get("orderby"))
	field, desc = strings.CutPrefix(field, "-")
	if field == "" {
		field = "id"
	}
	if _, ok := fields[field]; !ok {
		return nil, "", false, badRequest(nil, invalidSearchMessage)
	}
	return expr, field, desc, nil
}

// walk returns the records in ascending order, or descending when desc.
func walk[T any](all []T, desc bool) iter.Seq[T] {
	if desc {
		return func(yield func(T) bool) {
			for i := len(all) - 1; i >= 0; i-- {
				if !yield(all[i]) {
					return
				}
			}
		}
	}
	return slices.Values(all)
}

// writeList writes a list envelope: paging meta and current/next links whose
// hrefs are relative and drop the /api/vN prefix, as in EKM's examples.
func writeList[T any](w http.ResponseWriter, r *http.Request, p pageReq, total int, items []T) {
	if items == nil {
		items = []T{}
	}
	pages := p.pagesTotal(total)
	meta := map[string]any{"pages_total": pages, "items_total": total, "items_per_page": p.limit}
	links := []ekm.Link{{Rel: "current", Href: pageHref(r, p.page)}}
	if p.page < pages {
		links = append(links, ekm.Link{Rel: "next", Href: pageHref(r, p.page+1)})
	}
	writeEnvelope(w, http.StatusOK, meta, links, items)
}

// writeAll writes a whole collection as one list page (endpoints without
// paging parameters, such as order items and variants); items_per_page is the
// default limit, or the count when more items than that are listed.
func writeAll[T any](w http.ResponseWriter, r *http.Request, items []T) {
	writeList(w, r, pageReq{page: 1, limit: max(len(items), defaultLimit)}, len(items), items)
}

// pageHref is the request's path without /api/vN, with page set to n and the
// other query parameters kept.
func pageHref(r *http.Request, n int) string {
	path := r.URL.Path
	if rest, ok := strings.CutPrefix(path, "/api/"); ok {
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			path = rest[i:]
		}
	}
	q := r.URL.Query()
	q.Set("page", strconv.Itoa(n))
	return path + "?" + q.Encode()
}
