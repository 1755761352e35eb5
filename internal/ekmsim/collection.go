package ekmsim

import (
	"net/http"

	"github.com/ekmsync/ekmsync/internal/ekm"
)

// collection describes a kind of record the API lists and searches (orders,
// products): where the records are kept in id order, which fields a search
// may name, and how a record is served.
type collection[R Record, V any] struct {
	fields        Fields
	queryRequired bool
	all           func(*store) []R
	sorts         func(*store) *sortCache[R]
	view          func(R) V
}

var orderCollection = collection[*orderRec, ekm.Order]{
	fields: orderFields,
	all:    func(st *store) []*orderRec { return st.orders },
	sorts:  func(st *store) *sortCache[*orderRec] { return &st.orderSorts },
	view:   func(rec *orderRec) ekm.Order { return rec.order },
}

var productCollection = collection[*productRec, ekm.Product]{
	fields:        productFields,
	queryRequired: true,
	all:           func(st *store) []*productRec { return st.products },
	sorts:         func(st *store) *sortCache[*productRec] { return &st.productSorts },
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
		recs, total := pageOf(c.all(s.st), false, nil, p)
		page := c.views(recs)
		s.mu.RUnlock()
		writeList(w, r, p, total, page)
	}
}

// search serves a search: an OData query and an orderby field, walked over
// a cached sorted order so a request never sorts the shop.
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
				sorted := c.sorts(s.st).sorted(s.st.version, field, c.fields[field].Fold, c.all(s.st))
				recs, total := pageOf(sorted, desc, matcher[R](expr), p)
				page := c.views(recs)
				s.mu.RUnlock()
				writeList(w, r, p, total, page)
				return
			}
		}
		aerr.write(w)
	}
}

// views copies the records of a page out of the store.
func (c collection[R, V]) views(recs []R) []V {
	out := make([]V, len(recs))
	for i, rec := range recs {
		out[i] = c.view(rec)
	}
	return out
}
