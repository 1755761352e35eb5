package ekmsim

import (
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/ekmsync/ekmsync/internal/ekm"
)

// The store holds the shop's data. It is guarded by Sim.mu (a RWMutex): reads
// hold the read lock only while they pick and copy the records of one page,
// and encode after releasing it.
//
// Records are never changed in place through a pointer or slice that a copy
// may share: a write replaces a field's pointer or slice instead, so a shallow
// copy taken under the read lock stays valid after the lock is released.

// orderRec is one order and its lines.
type orderRec struct {
	order ekm.Order
	items []ekm.OrderItem
}

// productRec is a master product; its variants are kept as records so that a
// variant write does not touch the product's copy.
type productRec struct {
	product  ekm.Product // Variants and TotalProductStock are derived in view
	variants []*variantRec
}

// variantRec is one variant of a product.
type variantRec struct {
	variant ekm.Variant
	parent  *productRec
}

type store struct {
	orders     []*orderRec // ascending id
	orderByID  map[int64]*orderRec
	nextOrder  int64
	nextItem   int64
	products   []*productRec // ascending id
	productIdx map[int64]*productRec
	variantIdx map[int64]*variantRec
	nextID     int64 // products and variants share one id space
	nextOption int64
	productSeq int // numbers SKUs: SKU-00001 is the first product made
	statuses   []ekm.OrderStatusSetting
	currency   ekm.CurrencySettings
	subs       []ekm.WebhookSubscription

	orderViews   views[*orderRec]
	productViews views[*productRec]
}

func newStore() *store {
	return &store{
		orderByID:  map[int64]*orderRec{},
		productIdx: map[int64]*productRec{},
		variantIdx: map[int64]*variantRec{},
		nextOrder:  1,
		nextItem:   1,
		nextID:     1,
		nextOption: 1,
		statuses:   defaultStatuses(),
		currency:   defaultCurrency(),
	}
}

// addOrder appends an order whose id is the next one.
func (st *store) addOrder(rec *orderRec) {
	st.orders = append(st.orders, rec)
	st.orderByID[rec.order.ID] = rec
	st.orderViews.reshaped()
}

// removeOrder deletes an order and its lines.
func (st *store) removeOrder(rec *orderRec) {
	st.orders = slices.DeleteFunc(st.orders, func(o *orderRec) bool { return o == rec })
	delete(st.orderByID, rec.order.ID)
	st.orderViews.reshaped()
}

// addProduct appends a product (and indexes its variants) whose id is above
// every existing one.
func (st *store) addProduct(rec *productRec) {
	st.products = append(st.products, rec)
	st.productIdx[rec.product.ID] = rec
	for _, v := range rec.variants {
		st.variantIdx[v.variant.ID] = v
	}
	st.productViews.reshaped()
}

// setOrder replaces an order's value and tells the views what changed.
func (st *store) setOrder(rec *orderRec, o ekm.Order) {
	old := &orderRec{order: rec.order}
	rec.order = o
	st.orderViews.written(orderFields, old, rec)
}

// setProduct replaces a product's value and tells the views what changed.
func (st *store) setProduct(rec *productRec, p ekm.Product) {
	old := &productRec{product: rec.product}
	rec.product = p
	st.productViews.written(productFields, old, rec)
}

// touchProduct moves a product's last_modified to now, after a change of one
// of its variants (variantTouchesProduct).
func (st *store) touchProduct(rec *productRec, now time.Time) {
	if !variantTouchesProduct {
		return
	}
	p := rec.product
	p.LastModified = ekm.Time{Time: now}
	st.setProduct(rec, p)
}

// removeProduct deletes a product and its variants.
func (st *store) removeProduct(rec *productRec) {
	i, found := slices.BinarySearchFunc(st.products, rec.product.ID, func(p *productRec, id int64) int {
		return cmpInt64(p.product.ID, id)
	})
	if found {
		st.products = slices.Delete(st.products, i, i+1)
	}
	delete(st.productIdx, rec.product.ID)
	for _, v := range rec.variants {
		delete(st.variantIdx, v.variant.ID)
	}
	st.productViews.reshaped()
}

// removeVariant deletes one variant from its product.
func (st *store) removeVariant(v *variantRec) {
	p := v.parent
	p.variants = slices.DeleteFunc(slices.Clone(p.variants), func(x *variantRec) bool { return x == v })
	delete(st.variantIdx, v.variant.ID)
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// view returns the product as EKM serves it: variants nested, total stock derived.
func (p *productRec) view() ekm.Product {
	out := p.product
	out.Variants = make([]ekm.Variant, len(p.variants))
	out.TotalProductStock = out.NumberInStock
	for i, v := range p.variants {
		out.Variants[i] = v.variant
		if totalIncludesVariants {
			out.TotalProductStock += v.variant.NumberInStock
		}
	}
	return out
}

// stock returns the product's stock object.
func (p *productRec) stock() ekm.ProductStock {
	v := p.view()
	return ekm.ProductStock{ID: v.ID, Stock: v.NumberInStock, TotalProductStock: v.TotalProductStock}
}

// stock returns the variant's stock object.
func (v *variantRec) stock() ekm.VariantStock {
	return ekm.VariantStock{ID: v.variant.ID, ParentProductID: v.variant.ParentProductID, Stock: v.variant.NumberInStock}
}

// orderFields are the order fields a search or orderby may name.
var orderFields = Fields{
	"id":             {Kind: KindNumber},
	"status":         {Kind: KindString, Fold: true},
	"order_date":     {Kind: KindTime},
	"last_updated":   {Kind: KindTime},
	"payment_status": {Kind: KindString, Fold: true},
	"order_number":   {Kind: KindString},
}

// Value implements Record for orders.
func (o *orderRec) Value(field string) Value {
	switch field {
	case "id":
		return Value{Kind: KindNumber, Num: float64(o.order.ID)}
	case "status":
		return Value{Kind: KindString, Str: o.order.Status}
	case "order_date":
		return Value{Kind: KindTime, Time: o.order.OrderDate.Time}
	case "last_updated":
		if o.order.LastUpdated == nil {
			return Value{}
		}
		return Value{Kind: KindTime, Time: o.order.LastUpdated.Time}
	case "payment_status":
		return Value{Kind: KindString, Str: o.order.PaymentStatus}
	case "order_number":
		return Value{Kind: KindString, Str: o.order.OrderNumber}
	}
	return Value{}
}

// productFields are the product fields a search or orderby may name.
var productFields = Fields{
	"id":           {Kind: KindNumber},
	"product_code": {Kind: KindString},
	"live":         {Kind: KindBool},
	"name":         {Kind: KindString},
	// last_modified is what a refresh of the products modified since a time
	// searches by ([SW] V1Product.last_modified, docs/ekm-api.md §7).
	"last_modified": {Kind: KindTime},
}

// Value implements Record for products.
func (p *productRec) Value(field string) Value {
	switch field {
	case "id":
		return Value{Kind: KindNumber, Num: float64(p.product.ID)}
	case "product_code":
		return Value{Kind: KindString, Str: p.product.ProductCode}
	case "live":
		return Value{Kind: KindBool, Bool: p.product.Live}
	case "name":
		return Value{Kind: KindString, Str: p.product.Name}
	case "last_modified":
		return Value{Kind: KindTime, Time: p.product.LastModified.Time}
	}
	return Value{}
}

// views caches what searches over one collection need, so that a search does
// not sort or scan the shop on every request:
//   - per orderby field, all records sorted by that field and then by id,
//     rebuilt only when a write changed that field or added or removed records;
//   - per search (query, orderby, direction), the matching records in order,
//     recomputed after any write to the collection, so paging through a
//     result costs one scan for the first page and a slice for the others.
//
// Readers call it under the store's read lock and writers under its write
// lock, so the records cannot change meanwhile; its own mutex orders readers.
type views[T Record] struct {
	mu      sync.Mutex
	sorted  map[string][]T
	version uint64 // bumped by every write to the collection
	results map[string][]T
	resVer  uint64
}

// maxResults bounds the cached search results (each at most one slice of
// pointers to the collection's records).
const maxResults = 32

// reshaped records that records were added or removed: every view is stale.
func (v *views[T]) reshaped() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.version++
	clear(v.sorted)
}

// written records a change of one record from old to new: the sorted views
// of the fields whose value changed are stale, and so are all search results.
func (v *views[T]) written(fields Fields, old, new T) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.version++
	for f, desc := range fields {
		if compareValues(old.Value(f), new.Value(f), desc.Fold) != 0 {
			delete(v.sorted, f)
		}
	}
}

// sortedBy returns all records sorted by field (ties by id).
func (v *views[T]) sortedBy(field string, fold bool, all []T) []T {
	if field == "id" {
		return all // kept in id order already
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if s, ok := v.sorted[field]; ok {
		return s
	}
	s := slices.Clone(all)
	sort.SliceStable(s, func(i, j int) bool { // stable: equal fields keep id order
		return compareValues(s[i].Value(field), s[j].Value(field), fold) < 0
	})
	if v.sorted == nil {
		v.sorted = map[string][]T{}
	}
	v.sorted[field] = s
	return s
}

// matches returns the records of sorted (walked backwards when desc) that
// match expr, computing them once per key and collection version.
func (v *views[T]) matches(key string, sorted []T, desc bool, expr Expr) []T {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.results == nil || v.resVer != v.version || len(v.results) >= maxResults {
		v.results, v.resVer = map[string][]T{}, v.version
	}
	if r, ok := v.results[key]; ok {
		return r
	}
	var r []T
	for rec := range walk(sorted, desc) {
		if expr.Match(rec) {
			r = append(r, rec)
		}
	}
	v.results[key] = r
	return r
}
