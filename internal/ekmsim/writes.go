package ekmsim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/ekmsync/ekmsync/internal/ekm"
)

// Write is one successful write the shop received through the API: what a
// test asserts to know exactly what ekmsync sent to EKM.
type Write struct {
	// Time is when the simulator applied the write.
	Time time.Time `json:"time"`
	// Method and Path are the request's, e.g. PUT /api/v2/orders/7/status.
	Method string `json:"method"`
	Path   string `json:"path"`
	// Kind names the change: order.status, order.tracking, order.notes,
	// product.update, product.stock, variant.update, variant.stock,
	// webhook.create, webhook.update or webhook.delete.
	Kind string `json:"kind"`
	// OrderID, ProductID and VariantID identify what was written; a variant
	// write carries its parent's ProductID too. Zero when not applicable.
	OrderID   int64 `json:"order_id,omitempty"`
	ProductID int64 `json:"product_id,omitempty"`
	VariantID int64 `json:"variant_id,omitempty"`
	// ClientID is the OAuth client that wrote.
	ClientID string `json:"client_id"`
	// Body is the request body as sent.
	Body json.RawMessage `json:"body"`
	// EmailCustomer is the email_customer flag an order.status write carried
	// (absent from the body reads as false, as EKM takes it); nil for other kinds.
	EmailCustomer *bool `json:"email_customer,omitempty"`
}

// Write kinds.
const (
	KindOrderStatus   = "order.status"
	KindOrderTracking = "order.tracking"
	KindOrderNotes    = "order.notes"
	KindProductUpdate = "product.update"
	KindProductStock  = "product.stock"
	KindVariantUpdate = "variant.update"
	KindVariantStock  = "variant.stock"
	KindWebhookCreate = "webhook.create"
	KindWebhookUpdate = "webhook.update"
	KindWebhookDelete = "webhook.delete"
)

// WriteFilter selects writes; zero fields match everything.
type WriteFilter struct {
	OrderID   int64  `json:"order_id"`
	ProductID int64  `json:"product_id"`
	VariantID int64  `json:"variant_id"`
	Kind      string `json:"kind"`
}

func (f WriteFilter) match(w Write) bool {
	return (f.OrderID == 0 || f.OrderID == w.OrderID) &&
		(f.ProductID == 0 || f.ProductID == w.ProductID) &&
		(f.VariantID == 0 || f.VariantID == w.VariantID) &&
		(f.Kind == "" || f.Kind == w.Kind)
}

// writeLog keeps the writes in arrival order.
type writeLog struct {
	mu     sync.Mutex
	writes []Write
}

func (l *writeLog) add(w Write) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.writes = append(l.writes, w)
}

func (l *writeLog) list(f WriteFilter) []Write {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Collect(func(yield func(Write) bool) {
		for _, w := range l.writes {
			if f.match(w) && !yield(w) {
				return
			}
		}
	})
}

func (l *writeLog) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.writes = nil
}

// record logs a successful API write from request r with body.
func (s *Sim) record(r *http.Request, kind string, body []byte, w Write) {
	var compact bytes.Buffer
	if err := json.Compact(&compact, body); err != nil {
		compact.Reset()
		compact.WriteString("null")
	}
	w.Time, w.Method, w.Path, w.Kind, w.Body = s.now(), r.Method, r.URL.Path, kind, compact.Bytes()
	if kind == KindOrderStatus {
		var req ekm.OrderStatusUpdate
		if json.Unmarshal(body, &req) == nil {
			w.EmailCustomer = &req.EmailCustomer
		}
	}
	if c := claimsFrom(r); c != nil {
		w.ClientID = c.ClientID
	}
	s.writes.add(w)
}

// Writes returns the successful writes the shop received through the API,
// oldest first, that match the filter.
func (s *Sim) Writes(f WriteFilter) []Write { return s.writes.list(f) }
