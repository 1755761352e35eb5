package service

import (
	"context"
	"net/http"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"
)

// mountProbes adds Kubernetes' two probes to mux. They differ on purpose:
//
//   - /livez answers 200 while the process serves HTTP at all. A worker that cannot
//     reach PostgreSQL or Temporal is not helped by a restart (it retries by itself),
//     so liveness never looks at them.
//   - /readyz answers 200 when PostgreSQL and Temporal answer (the /healthz check) and
//     the worker is not stopping (ctx not done), so a pod that is draining or cut off
//     from its dependencies gets no webhooks from the Service.
func mountProbes(ctx context.Context, mux *http.ServeMux, pool *pgxpool.Pool, tc client.Client) {
	mux.HandleFunc("GET /livez", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	})
	deps := healthz(pool, tc, true)
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if ctx.Err() != nil {
			http.Error(w, "stopping", http.StatusServiceUnavailable)
			return
		}
		deps(w, r)
	})
}
