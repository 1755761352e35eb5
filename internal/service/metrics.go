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
)

// metrics exposes the SDK's worker metrics (through tally), the Go runtime's and
// the webhook receiver's outcomes on one Prometheus registry.
type metrics struct {
	handler  client.MetricsHandler
	http     http.Handler
	webhooks *prom.CounterVec
}

// webhook counts one webhook by its outcome (refused, too_large, malformed,
// topic, duplicate, signalled, unavailable): a flood of forged ones shows as refused.
func (m metrics) webhook(outcome string) { m.webhooks.WithLabelValues(outcome).Inc() }

func newMetrics() metrics {
	registry := prom.NewRegistry()
	webhooks := prom.NewCounterVec(prom.CounterOpts{Name: "ekmsync_webhooks_total",
		Help: "EKM webhooks received, by outcome"}, []string{"outcome"})
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), webhooks)
	reporter := tallyprom.NewReporter(tallyprom.Options{Registerer: registry})
	scope, _ := tally.NewRootScope(tally.ScopeOptions{
		CachedReporter:  reporter,
		Separator:       tallyprom.DefaultSeparator,
		SanitizeOptions: &sdktally.PrometheusSanitizeOptions,
		Prefix:          "ekmsync",
	}, time.Second)
	return metrics{
		handler:  sdktally.NewMetricsHandler(scope),
		http:     promhttp.HandlerFor(registry, promhttp.HandlerOpts{}),
		webhooks: webhooks,
	}
}
