package ekmsim

import (
	"net/http"
	"strconv"

	"github.com/ekmsync/ekmsync/internal/ekm"
)

// collection describes a kind of record the API lists and searches (orders,
// products): where the records are kept in id order, which fields a search
// may name, and how a record is served.
type collection[R Record, V any] struct {
	fields        Fields
	queryRequired bool
	all           func(*store) []R
	views         func(*store) *views[R]
	view          func(R) V
}

var orderCollection = collection[*orderRec, ekm.Order]{
	fields: orderFields,
	all:    func(st *store) []*orderRec { return st.orders },
	views:  func(st *store) *views[*orderRec] { return &st.orderViews },
	view:   func(rec *orderRec) ekm.Order { return rec.order },
}

var productCollection = collection[*productRec, ekm.Product]{
	fields:        productFields,
	queryRequired: true,
	all:           func(st *store) []*productRec { return st.products },
	views:         func(st *store) *views[*productRec] { return &st.productViews },
	view:          (*productRec).view,
}

// list serves a plain list: pages in ascending id order, no filter.
func (c collection[R, V]) list(s *Sim) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, aerr := parsePaging(r.URL.Query())
		if aerr != nil {
			aerr.write(w)
			return
		}
		s.mu.RLock()
		recs, total := pageOf(c.all(s.st), false, p)
		page := c.viewsOf(recs)
		s.mu.RUnlock()
		writeList(w, r, p, total, page)
	}
}

// search serves a search: an OData query and an orderby field, answered
// from cached sorted orders and cached matches (see views), so paging
// through a result scans the shop once, not once per page.
func (c collection[R, V]) search(s *Sim) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		p, aerr := parsePaging(q)
		if aerr == nil {
			var (
				expr  Expr
				field string
				desc  bool
			)
			if expr, field, desc, aerr = parseSearch(q, c.fields, c.queryRequired); aerr == nil {
				s.mu.RLock()
				v := c.views(s.st)
				sorted := v.sortedBy(field, c.fields[field].Fold, c.all(s.st))
				if expr != nil {
					sorted = v.matches(field+"\x00"+strconv.FormatBool(desc)+"\x00"+q.Get("query"), sorted, desc, expr)
					desc = false // matches are already in the requested direction
				}
				recs, total := pageOf(sorted, desc, p)
				page := c.viewsOf(recs)
				s.mu.RUnlock()
				writeList(w, r, p, total, page)
				return
			}
		}
		aerr.write(w)
	}
}

// viewsOf copies the records of a page out of the store.
func (c collection[R, V]) viewsOf(recs []R) []V {
	out := make([]V, len(recs))
	for i, rec := range recs {
		out[i] = c.view(rec)
	}
	return out
}
