package ekmsim

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/ekmsync/ekmsync/internal/ekm"
)

// Orders v2: one order, its items, and the three PUTs a sync client makes
// (status, delivery tracking, internal notes). List and search are served by
// orderCollection (collection.go).

// getOrder serves GET /api/v2/orders/{id}.
func (s *Sim) getOrder(w http.ResponseWriter, r *http.Request) {
	o, aerr := lookup(s, orderAt(r), func(rec *orderRec) ekm.Order { return rec.order })
	answer(w, o, aerr)
}

// getOrderItems serves GET /api/v2/orders/{id}/items: all lines on one page.
func (s *Sim) getOrderItems(w http.ResponseWriter, r *http.Request) {
	items, aerr := lookup(s, orderAt(r), func(rec *orderRec) []ekm.OrderItem { return rec.items })
	if aerr != nil {
		aerr.write(w)
		return
	}
	writeAll(w, r, items)
}

// putOrderStatus serves PUT /api/v2/orders/{id}/status. The status must be
// one of the shop's, compared case-insensitively, and is stored upper case.
func (s *Sim) putOrderStatus(w http.ResponseWriter, r *http.Request) {
	putOrder(s, w, r, KindOrderStatus, func(req *ekm.OrderStatusUpdate) *apiError {
		if strings.TrimSpace(req.Status) == "" {
			return badRequest([]string{"status"}, "The status field is required.")
		}
		return nil
	}, func(st *store, o *ekm.Order, req *ekm.OrderStatusUpdate) *apiError {
		status, ok := st.shopStatus(strings.TrimSpace(req.Status))
		if !ok {
			return badRequest([]string{"status"}, unknownStatusMessage(req.Status))
		}
		o.Status = status
		o.Emailed = o.Emailed || req.EmailCustomer
		return nil
	})
}

// putOrderTracking serves PUT /api/v2/orders/{id}/deliveryTracking; all three
// fields are replaced (ASSUMED, see notesReplace in assumed.go).
func (s *Sim) putOrderTracking(w http.ResponseWriter, r *http.Request) {
	putOrder(s, w, r, KindOrderTracking, nil, func(_ *store, o *ekm.Order, req *ekm.DeliveryTracking) *apiError {
		o.DeliveryTrackingNumber, o.DeliveryTrackingCompany, o.DeliveryTrackingURL = req.Number, req.Company, req.URL
		return nil
	})
}

// putOrderNotes serves PUT /api/v2/orders/{id}/internalNotes; the notes are
// replaced (ASSUMED, see notesReplace in assumed.go).
func (s *Sim) putOrderNotes(w http.ResponseWriter, r *http.Request) {
	putOrder(s, w, r, KindOrderNotes, nil, func(_ *store, o *ekm.Order, req *ekm.InternalNotes) *apiError {
		if notesReplace || o.InternalNotes == "" {
			o.InternalNotes = req.Notes
		} else {
			o.InternalNotes += "\n\n" + req.Notes
		}
		return nil
	})
}

// putOrder runs one order PUT: decode the body into T, validate it (400),
// find the order (404), apply the change under the write lock, stamp
// last_updated, record the write, fire order.updated and answer the order.
func putOrder[T any](s *Sim, w http.ResponseWriter, r *http.Request, kind string,
	validate func(*T) *apiError, apply func(*store, *ekm.Order, *T) *apiError) {
	req, body, ok := decodeBody(w, r, validate)
	if !ok {
		return
	}
	updated, aerr := mutate(s, orderAt(r), func(rec *orderRec) (ekm.Order, *apiError) {
		o := rec.order
		if aerr := apply(s.st, &o, &req); aerr != nil {
			return o, aerr
		}
		o.LastUpdated = &ekm.Time{Time: s.now()}
		s.st.setOrder(rec, o)
		return o, nil
	})
	if aerr != nil {
		aerr.write(w)
		return
	}
	s.record(r, kind, body, Write{OrderID: updated.ID})
	s.holds.wait(r.Context(), kind)
	if webhooksOnAPIWrites {
		s.notifyOrder(ekm.TopicOrderUpdated, updated.ID)
	}
	writeData(w, http.StatusOK, updated)
}

// maxBody bounds request bodies; EKM's are small JSON objects.
const maxBody = 1 << 20

// readJSON reads the request body and decodes it into v, returning the raw
// body for the write log; a body that is empty or not JSON is a 400.
func readJSON(r *http.Request, v any) ([]byte, *apiError) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil || len(body) == 0 || json.Unmarshal(body, v) != nil {
		return nil, badRequest(nil, invalidBodyMessage)
	}
	return body, nil
}

// decodeBody reads a JSON body into a T and validates it (validate may be
// nil); on failure it answers the 400 itself and reports false.
func decodeBody[T any](w http.ResponseWriter, r *http.Request, validate func(*T) *apiError) (T, []byte, bool) {
	var req T
	body, aerr := readJSON(r, &req)
	if aerr == nil && validate != nil {
		aerr = validate(&req)
	}
	if aerr != nil {
		aerr.write(w)
		return req, nil, false
	}
	return req, body, true
}

// parseID reads a positive int64 path id.
func parseID(raw string) (int64, bool) {
	id, err := strconv.ParseInt(raw, 10, 64)
	return id, err == nil && id > 0
}

// notFound builds EKM's 404 for an entity id.
func notFound(entity, raw string) *apiError {
	return &apiError{status: http.StatusNotFound, members: []string{"id"}, message: notFoundMessage(entity, raw)}
}

// orderByPath finds the order a path id names. The caller holds s.mu.
func (st *store) orderByPath(raw string) (*orderRec, *apiError) {
	if id, ok := parseID(raw); ok {
		if rec := st.orderByID[id]; rec != nil {
			return rec, nil
		}
	}
	return nil, notFound("Order", raw)
}
