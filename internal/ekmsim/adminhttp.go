package ekmsim

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/ekmsync/ekmsync/internal/ekm"
)

// The admin HTTP API under /admin: plain JSON, no auth, no rate limit, not
// counted. Each route calls the Go method of the same purpose in admin.go.

// RateLimit is the body of GET and PUT /admin/ratelimit.
type RateLimit struct {
	BucketSize    int     `json:"bucket_size"`
	LeakPerSecond float64 `json:"leak_per_second"`
}

// OrderState is an order with its lines, as GET /admin/orders/{id} answers.
type OrderState struct {
	Order ekm.Order       `json:"order"`
	Items []ekm.OrderItem `json:"items"`
}

// adminRoutes registers the /admin routes on mux.
func (s *Sim) adminRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /admin/orders", func(w http.ResponseWriter, r *http.Request) {
		var spec OrderSpec
		if decodeAdmin(w, r, &spec) {
			writeJSON(w, http.StatusCreated, s.CreateOrder(spec))
		}
	})
	mux.HandleFunc("GET /admin/orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, ok := adminID(w, r)
		if !ok {
			return
		}
		o, found := s.Order(id)
		items, _ := s.OrderItems(id)
		adminAnswer(w, OrderState{Order: o, Items: items}, found, "order")
	})
	mux.HandleFunc("PATCH /admin/orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		var patch OrderPatch
		if id, ok := adminID(w, r); ok && decodeAdmin(w, r, &patch) {
			o, err := s.UpdateOrder(id, patch)
			adminResult(w, o, err)
		}
	})
	mux.HandleFunc("DELETE /admin/orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		if id, ok := adminID(w, r); ok {
			adminResult(w, nil, s.DeleteOrder(id))
		}
	})
	mux.HandleFunc("PUT /admin/orders/{id}/lines", func(w http.ResponseWriter, r *http.Request) {
		var lines []LineSpec
		if id, ok := adminID(w, r); ok && decodeAdmin(w, r, &lines) {
			o, err := s.SetOrderLines(id, lines)
			adminResult(w, o, err)
		}
	})
	mux.HandleFunc("POST /admin/products", func(w http.ResponseWriter, r *http.Request) {
		var spec ProductSpec
		if decodeAdmin(w, r, &spec) {
			writeJSON(w, http.StatusCreated, s.CreateProduct(spec))
		}
	})
	mux.HandleFunc("GET /admin/products/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, ok := adminID(w, r)
		if !ok {
			return
		}
		if v, isVariant := s.Variant(id); isVariant {
			writeJSON(w, http.StatusOK, v)
			return
		}
		p, found := s.Product(id)
		adminAnswer(w, p, found, "product")
	})
	mux.HandleFunc("PATCH /admin/products/{id}", func(w http.ResponseWriter, r *http.Request) {
		var patch ProductPatch
		if id, ok := adminID(w, r); ok && decodeAdmin(w, r, &patch) {
			p, err := s.UpdateProduct(id, patch)
			adminResult(w, p, err)
		}
	})
	mux.HandleFunc("DELETE /admin/products/{id}", func(w http.ResponseWriter, r *http.Request) {
		if id, ok := adminID(w, r); ok {
			adminResult(w, nil, s.DeleteProduct(id))
		}
	})
	mux.HandleFunc("GET /admin/writes", s.adminWrites)
	mux.HandleFunc("GET /admin/requests", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, s.RequestStats())
	})
	mux.HandleFunc("POST /admin/reset", func(w http.ResponseWriter, _ *http.Request) {
		s.Reset()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /admin/revoke", func(w http.ResponseWriter, _ *http.Request) {
		s.RevokeConsent()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /admin/tokens", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, s.IssueScopedTokens(IssuedScopes...))
	})
	adminSetting(mux, "faults", s.Faults, s.SetFaults)
	adminSetting(mux, "ratelimit", s.rateLimit, func(rl RateLimit) { s.SetRateLimit(rl.BucketSize, rl.LeakPerSecond) })
	adminSetting(mux, "statuses", func() ekm.OrderStatuses { return ekm.OrderStatuses{Statuses: s.Statuses()} },
		func(v ekm.OrderStatuses) { s.SetStatuses(v.Statuses) })
	adminSetting(mux, "currency", s.Currency, s.SetCurrency)
	adminSetting(mux, "hostile", s.Hostile, s.SetHostile)
}

// adminSetting registers GET and PUT /admin/{name} for a setting.
func adminSetting[T any](mux *http.ServeMux, name string, get func() T, set func(T)) {
	mux.HandleFunc("GET /admin/"+name, func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, get())
	})
	mux.HandleFunc("PUT /admin/"+name, func(w http.ResponseWriter, r *http.Request) {
		var v T
		if decodeAdmin(w, r, &v) {
			set(v)
			writeJSON(w, http.StatusOK, get())
		}
	})
}

// rateLimit returns the current bucket size and leak rate.
func (s *Sim) rateLimit() RateLimit {
	s.limiter.mu.Lock()
	defer s.limiter.mu.Unlock()
	return RateLimit{BucketSize: s.limiter.size, LeakPerSecond: s.limiter.leak}
}

// adminWrites serves GET /admin/writes?order_id=&product_id=&variant_id=&kind=.
func (s *Sim) adminWrites(w http.ResponseWriter, r *http.Request) {
	var f WriteFilter
	q := r.URL.Query()
	for name, dst := range map[string]*int64{"order_id": &f.OrderID, "product_id": &f.ProductID, "variant_id": &f.VariantID} {
		if raw := q.Get(name); raw != "" {
			n, err := strconv.ParseInt(raw, 10, 64)
			if err != nil {
				adminError(w, http.StatusBadRequest, fmt.Errorf("%s: %w", name, err))
				return
			}
			*dst = n
		}
	}
	f.Kind = q.Get("kind")
	writes := s.Writes(f)
	if writes == nil {
		writes = []Write{}
	}
	writeJSON(w, http.StatusOK, writes)
}

// decodeAdmin decodes a strict JSON body (unknown fields are an error, to
// catch typos in tests); on failure it answers 400 and returns false.
func decodeAdmin(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(io.LimitReader(r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		adminError(w, http.StatusBadRequest, fmt.Errorf("decoding body: %w", err))
		return false
	}
	return true
}

// adminID reads the {id} path value; on failure it answers 400.
func adminID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, ok := parseID(r.PathValue("id"))
	if !ok {
		adminError(w, http.StatusBadRequest, fmt.Errorf("bad id %q", r.PathValue("id")))
	}
	return id, ok
}

// adminAnswer writes v, or a 404 naming the entity.
func adminAnswer(w http.ResponseWriter, v any, found bool, entity string) {
	if !found {
		adminError(w, http.StatusNotFound, fmt.Errorf("%s: %w", entity, ErrNotFound))
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// adminResult writes v (204 when nil), or the error: 404 for ErrNotFound.
func adminResult(w http.ResponseWriter, v any, err error) {
	switch {
	case errors.Is(err, ErrNotFound):
		adminError(w, http.StatusNotFound, err)
	case err != nil:
		adminError(w, http.StatusBadRequest, err)
	case v == nil:
		w.WriteHeader(http.StatusNoContent)
	default:
		writeJSON(w, http.StatusOK, v)
	}
}

// adminError writes {"error": "..."}.
func adminError(w http.ResponseWriter, status int, err error) {
	writeJSON(w, status, map[string]string{"error": err.Error()})
}
