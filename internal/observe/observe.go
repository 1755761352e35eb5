// Package observe is what an operator sees of the worker: ekmsync's own Prometheus
// metrics (EKM traffic, budget waits, orders, sends, and each channel's health read
// from the hub at scrape time), the Temporal SDK's metrics as histograms under the
// names Temporal's dashboards query, structured logs that carry the activity's
// workflow id, type and attempt, optional OpenTelemetry tracing, and notifications
// of what needs a person.
package observe

import (
	prom "github.com/prometheus/client_golang/prometheus"
)

// The metrics counted as things happen. They are process-wide: every registry
// NewRegistry makes shows them (tests run several workers in one process).
var (
	// ekmRequests counts EKM's answers by channel, endpoint (method and path
	// pattern) and HTTP status ("error" when no answer came).
	ekmRequests = prom.NewCounterVec(prom.CounterOpts{Name: "ekmsync_ekm_requests_total",
		Help: "EKM API requests by channel, endpoint and HTTP status (error: no answer)"},
		[]string{"channel", "endpoint", "status"})
	// tokenRefreshes counts calls of EKM's token endpoint by result: ok, rejected
	// (EKM refused the refresh token or the client) or error.
	tokenRefreshes = prom.NewCounterVec(prom.CounterOpts{Name: "ekmsync_token_refreshes_total",
		Help: "EKM token requests by channel and result (ok, rejected, error)"}, []string{"channel", "result"})
	// budgetWait is how long requests waited for the channel's rate budget.
	budgetWait = prom.NewHistogramVec(prom.HistogramOpts{Name: "ekmsync_budget_wait_seconds",
		Help:    "time a request waited for its channel's EKM rate budget, by priority",
		Buckets: []float64{0.001, 0.01, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300}}, []string{"priority"})
	// orders counts what order syncs and backfills did with the orders they read.
	orders = prom.NewCounterVec(prom.CounterOpts{Name: "ekmsync_orders_total",
		Help: "orders read from EKM by channel and outcome (new, updated, unchanged, skipped, quarantined)"},
		[]string{"channel", "outcome"})
	// sends counts the push loop's outbound work by kind and result.
	sends = prom.NewCounterVec(prom.CounterOpts{Name: "ekmsync_sends_total",
		Help: "outbound work by channel, kind (despatch, cancellation, stock, price) and result (sent, already, not_sent, held, failed)"},
		[]string{"channel", "kind", "result"})
)

// counted are the metrics above, for registering.
func counted() []prom.Collector {
	return []prom.Collector{ekmRequests, tokenRefreshes, budgetWait, orders, sends}
}

// Register adds ekmsync's counted metrics to reg (a worker's registry).
func Register(reg prom.Registerer) {
	for _, c := range counted() {
		reg.MustRegister(c)
	}
}
