package ekmsim

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ekmsync/ekmsync/internal/ekm"
)

// The admin Go API: what a test or the /admin HTTP routes (adminhttp.go) use
// to change the shop behind the client's back and to read back its state.
// Values returned share nothing the simulator will change later.

// ErrNotFound is returned, wrapped with the id, when an admin call names an
// order, product or variant the shop does not have.
var ErrNotFound = errors.New("not found")

// OrderSpec describes an order to create; every field is optional.
type OrderSpec struct {
	// Status defaults to PENDING. A shop status (any case) is stored in its
	// upper-case form; other values are stored upper case too, so a test can
	// create an order in a status the shop has since dropped.
	Status string `json:"status,omitempty"`
	// PaymentStatus defaults to SUCCESS.
	PaymentStatus string `json:"payment_status,omitempty"`
	// TransactionID defaults to a generated id when the payment is SUCCESS;
	// set it to "" for a SUCCESS without transaction id.
	TransactionID *string `json:"transaction_id,omitempty"`
	// OrderDate defaults to now.
	OrderDate time.Time `json:"order_date,omitzero"`
	// Lines default to 1 to 5 random catalogue lines.
	Lines []LineSpec `json:"lines,omitempty"`
	// DeliveryMethod defaults to one of the shop's generated methods.
	DeliveryMethod *string `json:"delivery_method,omitempty"`
}

// LineSpec describes one order line.
type LineSpec struct {
	// ProductCode is the SKU. If a listing has it, the line takes that
	// listing's id, name and price; otherwise the line is for an unlisted
	// item with product id 0.
	ProductCode string `json:"product_code"`
	// Quantity defaults to 1; any other value is kept as given, a negative
	// one or one beyond 2^31 included (a hostile shop's).
	Quantity int64 `json:"quantity,omitempty"`
	// Price is the net unit price; default the listing's, or 9.99.
	Price *float64 `json:"price,omitempty"`
	// Name defaults to the listing's name.
	Name string `json:"name,omitempty"`
	// TaxRate is the line's tax rate in percent; default the listing's, or
	// the standard rate.
	TaxRate *float64 `json:"tax_rate,omitempty"`
}

// OrderPatch changes an order as the merchant or the payment provider would;
// nil fields are kept. Any change stamps last_updated and fires order.updated.
type OrderPatch struct {
	Status            *string `json:"status,omitempty"`
	PaymentStatus     *string `json:"payment_status,omitempty"`
	TransactionID     *string `json:"transaction_id,omitempty"`
	TransactionStatus *string `json:"transaction_status,omitempty"`
	// CustomerFacingNotes replaces the order's notes (of any length: a test
	// makes an order as large as it needs).
	CustomerFacingNotes *string `json:"customer_facing_notes,omitempty"`
}

// CreateOrder adds an order with the next id, as if a shopper had checked
// out, and fires order.created.
func (s *Sim) CreateOrder(spec OrderSpec) ekm.Order {
	s.mu.Lock()
	now := s.now()
	date := now
	if !spec.OrderDate.IsZero() {
		date = ekmTime(spec.OrderDate)
	}
	status := s.st.storedStatus(spec.Status, "PENDING")
	lines := s.st.specLines(spec.Lines)
	if len(spec.Lines) == 0 {
		lines = s.gen.randomLines(s.st)
	}
	rec := s.gen.newOrder(s.st, date, status, specPayment(spec), lines, now)
	if spec.PaymentStatus != "" {
		rec.order.PaymentStatus = strings.ToUpper(spec.PaymentStatus)
	}
	if spec.TransactionID != nil {
		rec.order.TransactionID = *spec.TransactionID
	}
	if spec.DeliveryMethod != nil {
		rec.order.DeliveryMethod = *spec.DeliveryMethod
	}
	rec.order.LastUpdated = &ekm.Time{Time: now}
	s.st.addOrder(rec)
	o := cloneOrder(rec.order)
	s.mu.Unlock()
	s.notifyOrder(ekm.TopicOrderCreated, o.ID)
	return o
}

// specPayment maps a spec's payment fields to the generator's payment state.
func specPayment(spec OrderSpec) paymentState {
	switch strings.ToUpper(spec.PaymentStatus) {
	case "", "SUCCESS":
		if spec.TransactionID != nil && *spec.TransactionID == "" {
			return paidNoTransaction
		}
		return paidWithTransaction
	case "FAILED":
		return paymentFailed
	}
	return paymentUnknown
}

// arriveOrder adds a new order as the demo shop's checkout would: mostly
// paid and processing, some pending. It fires order.created.
func (s *Sim) arriveOrder() ekm.Order {
	s.mu.Lock()
	now := s.now()
	status := s.st.storedStatus(weighted(s.gen, []string{"PENDING", "PROCESSING"}, []int{40, 60}), "PENDING")
	rec := s.gen.newOrder(s.st, now, status, s.gen.paymentFor(status), s.gen.randomLines(s.st), now)
	s.st.addOrder(rec)
	o := cloneOrder(rec.order)
	s.mu.Unlock()
	s.notifyOrder(ekm.TopicOrderCreated, o.ID)
	return o
}

// storedStatus is the upper-case form of status (fallback when empty),
// spelt as the shop spells it when it is one of the shop's.
func (st *store) storedStatus(status, fallback string) string {
	if status == "" {
		status = fallback
	}
	if shop, ok := st.shopStatus(status); ok {
		return shop
	}
	return strings.ToUpper(status)
}

// specLines turns line specs into lines, looking SKUs up in the catalogue.
func (st *store) specLines(specs []LineSpec) []line {
	lines := make([]line, 0, len(specs))
	for _, ls := range specs {
		l := line{productID: unlistedProductID, code: ls.ProductCode, name: "Unlisted item", price: 9.99,
			taxRate: standardTaxRate, taxID: taxRateStandard}
		if p, which, ok := st.listingBySKU(ls.ProductCode); ok {
			l = catalogueLine(p, which)
		}
		l.qty = ls.Quantity
		if l.qty == 0 {
			l.qty = 1
		}
		if ls.Price != nil {
			l.price = *ls.Price
		}
		if ls.Name != "" {
			l.name = ls.Name
		}
		if ls.TaxRate != nil {
			l.taxRate = *ls.TaxRate
		}
		lines = append(lines, l)
	}
	return lines
}

// listingBySKU finds the first listing (in id order) with the SKU: the
// product, and which of its variants (or 0 for a plain product).
func (st *store) listingBySKU(code string) (*productRec, int, bool) {
	if code == "" {
		return nil, 0, false
	}
	for _, p := range st.products {
		if len(p.variants) == 0 && p.product.ProductCode == code {
			return p, 0, true
		}
		for i, v := range p.variants {
			if v.variant.ProductCode == code {
				return p, i, true
			}
		}
	}
	return nil, 0, false
}

// UpdateOrder changes an order's status or payment (PATCH /admin/orders/{id}).
func (s *Sim) UpdateOrder(id int64, patch OrderPatch) (ekm.Order, error) {
	s.mu.Lock()
	rec := s.st.orderByID[id]
	if rec == nil {
		s.mu.Unlock()
		return ekm.Order{}, fmt.Errorf("ekmsim: order %d: %w", id, ErrNotFound)
	}
	o := rec.order
	if patch.Status != nil {
		o.Status = s.st.storedStatus(*patch.Status, o.Status)
	}
	if patch.PaymentStatus != nil {
		o.PaymentStatus = strings.ToUpper(*patch.PaymentStatus)
	}
	if patch.TransactionID != nil {
		o.TransactionID = *patch.TransactionID
	}
	if patch.TransactionStatus != nil {
		o.TransactionStatus = *patch.TransactionStatus
	}
	if patch.CustomerFacingNotes != nil {
		o.CustomerFacingNotes = *patch.CustomerFacingNotes
	}
	o.IsConfirmed = o.PaymentStatus == "SUCCESS"
	o.LastUpdated = &ekm.Time{Time: s.now()}
	s.st.setOrder(rec, o)
	s.mu.Unlock()
	s.notifyOrder(ekm.TopicOrderUpdated, id)
	return cloneOrder(o), nil
}

// SetOrderLines replaces an order's lines (PUT /admin/orders/{id}/lines), as a
// merchant editing the order would, and recomputes its totals; the delivery
// and discount are kept. It stamps last_updated and fires order.updated.
func (s *Sim) SetOrderLines(id int64, specs []LineSpec) (ekm.Order, error) {
	s.mu.Lock()
	rec := s.st.orderByID[id]
	if rec == nil {
		s.mu.Unlock()
		return ekm.Order{}, fmt.Errorf("ekmsim: order %d: %w", id, ErrNotFound)
	}
	o := rec.order
	o.LastUpdated = &ekm.Time{Time: s.now()}
	fresh := s.st.finishOrder(o, s.st.specLines(specs), o.TotalDelivery, o.DiscountsTotal)
	rec.items = fresh.items
	s.st.setOrder(rec, fresh.order)
	o = cloneOrder(fresh.order)
	s.mu.Unlock()
	s.notifyOrder(ekm.TopicOrderUpdated, id)
	return o, nil
}

// DeleteOrder removes an order (DELETE /admin/orders/{id}): EKM answers 404
// for it from then on. No webhook fires, as EKM has no order.deleted topic.
func (s *Sim) DeleteOrder(id int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.st.orderByID[id]
	if rec == nil {
		return fmt.Errorf("ekmsim: order %d: %w", id, ErrNotFound)
	}
	s.st.removeOrder(rec)
	return nil
}

// Order returns an order as the shop holds it.
func (s *Sim) Order(id int64) (ekm.Order, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	rec := s.st.orderByID[id]
	if rec == nil {
		return ekm.Order{}, false
	}
	return cloneOrder(rec.order), true
}

// OrderItems returns an order's lines.
func (s *Sim) OrderItems(id int64) ([]ekm.OrderItem, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	rec := s.st.orderByID[id]
	if rec == nil {
		return nil, false
	}
	return append([]ekm.OrderItem(nil), rec.items...), true
}

// Orders returns every order in ascending id order.
func (s *Sim) Orders() []ekm.Order {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]ekm.Order, len(s.st.orders))
	for i, rec := range s.st.orders {
		out[i] = cloneOrder(rec.order)
	}
	return out
}

// cloneOrder deep-copies the pointer fields of an order.
func cloneOrder(o ekm.Order) ekm.Order {
	if o.ShippingAddress != nil {
		a := *o.ShippingAddress
		a.CreatedDate, a.ModifiedDate = clonePtr(a.CreatedDate), clonePtr(a.ModifiedDate)
		o.ShippingAddress = &a
	}
	o.LastUpdated, o.DeliveryTaxRate = clonePtr(o.LastUpdated), clonePtr(o.DeliveryTaxRate)
	o.DeliveryIncludesTax = clonePtr(o.DeliveryIncludesTax)
	o.CustomFieldsTotal, o.CustomFieldsTaxTotal = clonePtr(o.CustomFieldsTotal), clonePtr(o.CustomFieldsTaxTotal)
	return o
}

// RevokeConsent withdraws the merchant's consent for every client: refresh
// tokens then fail with invalid_grant and access tokens with 401, until the
// authorization flow is run again.
func (s *Sim) RevokeConsent() { s.auth.revokeAll() }

// SetFaults replaces the fault probabilities and ends any 429 burst.
func (s *Sim) SetFaults(f Faults) { s.faults.set(f) }

// Faults returns the current fault probabilities.
func (s *Sim) Faults() Faults { return s.faults.get() }

// SetRateLimit changes every bucket's size and leak rate (requests per
// second); buckets keep their level, capped at the new size.
func (s *Sim) SetRateLimit(size int, leakPerSecond float64) { s.limiter.set(size, leakPerSecond) }

// Reset clears the request and fault counters, the write log, the rate-limit
// buckets and any running 429 burst; the shop's data and tokens are kept.
func (s *Sim) Reset() {
	s.stats.reset()
	s.writes.reset()
	s.limiter.reset()
	s.faults.resetCounts()
}

// IssueTokens mints a consented access and refresh token pair for the demo
// client with IssuedScopes, as a completed authorization flow would, so that
// a test can skip the browser.
func (s *Sim) IssueTokens() (access, refresh string) {
	t := s.auth.issueDirect(IssuedScopes)
	return t.AccessToken, t.RefreshToken
}

// IssueScopedTokens is IssueTokens with chosen scopes (include
// offline_access for a refresh token), e.g. to test a 403.
func (s *Sim) IssueScopedTokens(scopes ...string) ekm.TokenResponse {
	return s.auth.issueDirect(scopes)
}
