package service

import (
	"net/http"
	"time"

	prom "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/uber-go/tally/v4"
	tallyprom "github.com/uber-go/tally/v4/prometheus"
	"go.temporal.io/sdk/client"
	sdktally "go.temporal.io/sdk/contrib/tally"

	"github.com/ekmsync/ekmsync/internal/observe"
)

// metrics exposes, on one Prometheus registry, the SDK's worker metrics (through
// tally), the Go runtime's, the webhook receiver's outcomes and ekmsync's own
// (internal/observe).
type metrics struct {
	registry *prom.Registry
	handler  client.MetricsHandler
	http     http.Handler
	webhooks *prom.CounterVec
}

// webhook counts one webhook by its outcome (refused, too_large, malformed,
// topic, duplicate, signalled, unavailable): a flood of forged ones shows as refused.
func (m metrics) webhook(outcome string) { m.webhooks.WithLabelValues(outcome).Inc() }

// newMetrics builds the registry. The SDK's metrics keep their own names
// (temporal_request_total, temporal_activity_execution_latency_seconds_bucket, ...)
// with histogram timers, as Temporal's Go samples and Grafana dashboards expect:
// histograms, unlike summaries, add up across replicas in histogram_quantile.
func newMetrics() metrics {
	registry := prom.NewRegistry()
	webhooks := prom.NewCounterVec(prom.CounterOpts{Name: "ekmsync_webhooks_total",
		Help: "EKM webhooks received, by outcome"}, []string{"outcome"})
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), webhooks)
	for _, outcome := range []string{"refused", "too_large", "malformed", "topic", "duplicate", "fetched", "signalled", "unavailable"} {
		webhooks.WithLabelValues(outcome) // at zero from the start, for rate() and the dashboard
	}
	observe.Register(registry)
	reporter := tallyprom.NewReporter(tallyprom.Options{Registerer: registry, DefaultTimerType: tallyprom.HistogramTimerType})
	scope, _ := tally.NewRootScope(tally.ScopeOptions{
		CachedReporter:  reporter,
		Separator:       tallyprom.DefaultSeparator,
		SanitizeOptions: &sdktally.PrometheusSanitizeOptions,
	}, time.Second)
	return metrics{
		registry: registry,
		handler:  sdktally.NewMetricsHandler(sdktally.NewPrometheusNamingScope(scope)),
		http:     promhttp.HandlerFor(registry, promhttp.HandlerOpts{}),
		webhooks: webhooks,
	}
}
