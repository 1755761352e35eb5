package ekmsim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"
)

// routes builds the handler: every API route goes through api (count,
// authenticate, rate-limit, check scope, inject faults), /connect/* through
// counted only, and /admin/* through nothing.
func (s *Sim) routes() http.Handler {
	mux := http.NewServeMux()
	s.api(mux, "GET /api/v2/orders", ScopeOrdersRead, orderCollection.list(s))
	s.api(mux, "GET /api/v2/orders/search", ScopeOrdersRead, orderCollection.search(s))
	s.api(mux, "GET /api/v2/orders/{id}", ScopeOrdersRead, s.getOrder)
	s.api(mux, "GET /api/v2/orders/{id}/items", ScopeOrdersRead, s.getOrderItems)
	s.api(mux, "PUT /api/v2/orders/{id}/status", ScopeOrdersWrite, s.putOrderStatus)
	s.api(mux, "PUT /api/v2/orders/{id}/deliveryTracking", ScopeOrdersWrite, s.putOrderTracking)
	s.api(mux, "PUT /api/v2/orders/{id}/internalNotes", ScopeOrdersWrite, s.putOrderNotes)

	s.api(mux, "GET /api/v1/settings/orderstatuses", ScopeOrderStatusesRead, s.getStatuses)
	s.api(mux, "GET /api/v1/settings/currency", ScopeCurrencyRead, s.getCurrency)

	s.api(mux, "GET /api/v1/products", ScopeProductsRead, productCollection.list(s))
	s.api(mux, "GET /api/v1/products/search", ScopeProductsRead, productCollection.search(s))
	s.api(mux, "GET /api/v1/products/{id}", ScopeProductsRead, s.getProduct)
	s.api(mux, "PUT /api/v1/products/{id}", ScopeProductsWrite, s.putProduct)
	s.api(mux, "GET /api/v1/products/{id}/stock", ScopeProductsRead, s.getProductStock)
	s.api(mux, "PUT /api/v1/products/{id}/stock", ScopeProductsWrite, s.putProductStock)
	s.api(mux, "GET /api/v1/products/{id}/variants", ScopeProductsRead, s.listVariants)
	s.api(mux, "GET /api/v1/products/{id}/variants/{variantId}", ScopeProductsRead, s.getVariant)
	s.api(mux, "PUT /api/v1/products/{id}/variants/{variantId}", ScopeProductsWrite, s.putVariant)
	s.api(mux, "GET /api/v1/products/{id}/variants/{variantId}/stock", ScopeProductsRead, s.getVariantStock)
	s.api(mux, "PUT /api/v1/products/{id}/variants/{variantId}/stock", ScopeProductsWrite, s.putVariantStock)

	s.api(mux, "POST /api/v2/Webhooks", webhookScope, s.createWebhook)
	s.api(mux, "GET /api/v2/Webhooks/webhooks", webhookScope, s.listWebhooks)
	s.api(mux, "GET /api/v2/Webhooks/{id}", webhookScope, s.getWebhook)
	s.api(mux, "PUT /api/v2/Webhooks/{id}", webhookScope, s.putWebhook)
	s.api(mux, "DELETE /api/v2/Webhooks/{id}", webhookScope, s.deleteWebhook)

	s.counted(mux, "GET /connect/authorize", s.handleAuthorize)
	s.counted(mux, "POST /connect/authorize", s.handleAuthorize)
	s.counted(mux, "POST /connect/token", s.handleToken)

	s.adminRoutes(mux)
	return mux
}

// counted registers h under pattern, counts each request under the pattern
// as it arrives, and counts its answer by status.
func (s *Sim) counted(mux *http.ServeMux, pattern string, h http.HandlerFunc) {
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		s.stats.request(pattern)
		sw := &statusWriter{ResponseWriter: w, answered: s.stats.answered}
		defer sw.cut() // no answer at all (a panic): counted as a cut
		h(sw, r)
	})
}

// api registers an EKM API route. In order: a request without a valid bearer
// token is refused with 401 (and costs nothing); otherwise it costs one token
// from its (client, shop) bucket and every answer carries the rate-limit
// headers; an overflowing request gets 429; a token without the route's scope
// gets 403; then faults are drawn and the handler runs.
func (s *Sim) api(mux *http.ServeMux, pattern, scope string, h http.HandlerFunc) {
	s.counted(mux, pattern, func(w http.ResponseWriter, r *http.Request) {
		c, err := s.auth.verify(bearerToken(r))
		if err != nil {
			writeUnauthorized(w, err)
			return
		}
		s.stats.client(c.ClientID)
		w = s.hostile.wrap(w)
		res := s.limiter.take(bucketKey{clientID: c.ClientID, shop: c.Subject}, s.opts.Now())
		res.setHeaders(w.Header())
		if !res.allowed {
			s.stats.bucketLimited()
			writeRateLimited(w, res.retryAfter())
			return
		}
		if scope != "" && !c.has(scope) {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), claimsKey{}, c))
		s.faults.serveFaulty(s.faults.decide(), res, w, r, func(w http.ResponseWriter, r *http.Request) {
			s.hostile.serve(pattern, h, w, r)
		})
	})
}

// claimsKey carries the verified token's claims in a request's context.
type claimsKey struct{}

// claimsFrom returns the verified claims of an API request, or nil.
func claimsFrom(r *http.Request) *claims {
	c, _ := r.Context().Value(claimsKey{}).(*claims)
	return c
}

// bearerToken returns the token of an "Authorization: Bearer" header.
func bearerToken(r *http.Request) string {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// writeUnauthorized answers 401 with an empty body and WWW-Authenticate.
func writeUnauthorized(w http.ResponseWriter, err error) {
	challenge := wwwAuthenticateInvalid
	switch {
	case errors.Is(err, errNoToken):
		challenge = wwwAuthenticateMissing
	case errors.Is(err, errExpiredToken):
		challenge = wwwAuthenticateExpired
	}
	w.Header().Set("WWW-Authenticate", challenge)
	w.WriteHeader(http.StatusUnauthorized)
}

// Server is a running HTTP server of a Sim.
type Server struct {
	srv *http.Server
	url string
}

// Start listens on addr (":0" picks a free port), serves the Handler and
// starts the background jobs. Sim.Close also closes the server.
func (s *Sim) Start(addr string) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("ekmsim: listen on %s: %w", addr, err)
	}
	srv := &Server{
		srv: &http.Server{
			Handler:           s.Handler(),
			ReadHeaderTimeout: 10 * time.Second,
			ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		},
		url: "http://" + dialable(ln.Addr()),
	}
	s.bgMu.Lock()
	if s.closed {
		s.bgMu.Unlock()
		_ = ln.Close()
		return nil, errors.New("ekmsim: simulator is closed")
	}
	s.servers = append(s.servers, srv)
	s.bgMu.Unlock()
	go func() {
		if err := srv.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("serving", "err", err)
		}
	}()
	s.StartJobs()
	s.log.Info("listening", "url", srv.url)
	return srv, nil
}

// dialable turns a listener address into host:port a client can dial:
// an unspecified host (":0", "0.0.0.0", "[::]") becomes 127.0.0.1.
func dialable(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok || tcp.IP == nil || tcp.IP.IsUnspecified() {
		_, port, _ := net.SplitHostPort(a.String())
		return net.JoinHostPort("127.0.0.1", port)
	}
	return tcp.String()
}

// URL returns the server's base URL, e.g. "http://127.0.0.1:8090".
func (srv *Server) URL() string { return srv.url }

// Close stops the server at once, dropping open connections.
func (srv *Server) Close() error {
	if err := srv.srv.Close(); err != nil {
		return fmt.Errorf("ekmsim: closing server: %w", err)
	}
	return nil
}

// Shutdown stops the server gracefully, waiting for requests in flight
// until ctx ends.
func (srv *Server) Shutdown(ctx context.Context) error {
	if err := srv.srv.Shutdown(ctx); err != nil {
		return fmt.Errorf("ekmsim: shutting down server: %w", err)
	}
	return nil
}
