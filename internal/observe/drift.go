package observe

import (
	"context"
	"encoding/json"
	"log/slog"
	"sort"

	prom "github.com/prometheus/client_golang/prometheus"

	"github.com/ekmsync/ekmsync/internal/store"
)

var (
	descDriftRows = desc("ekmsync_drift_rows", "rows of the channel's last drift comparison, by kind: stock, price, not_on_ekm, "+
		"missed_orders, shipped_on_ekm, cancelled_on_ekm, shipped_in_hub (drifted) and pending (in the push's or the sync's hands)", "channel", "kind")
	descDriftChecked = desc("ekmsync_drift_checked_timestamp_seconds", "when the channel's last drift comparison that worked ran (Unix time; 0: never)", "channel")
	descDriftFailed  = desc("ekmsync_drift_failed", "1 when the channel's last drift comparison failed ('starter channel drift' says why)", "channel")
)

// Drift is a Prometheus collector of each channel's last drift comparison
// (internal/drift), scheduled or on demand, read from the hub at scrape time.
type Drift struct {
	// Store is the hub.
	Store *store.Store
	// Logger receives a warning when a scrape cannot read the hub; nil discards.
	Logger *slog.Logger
}

// Describe implements prometheus.Collector.
func (d *Drift) Describe(ch chan<- *prom.Desc) {
	ch <- descDriftRows
	ch <- descDriftChecked
	ch <- descDriftFailed
}

// Collect implements prometheus.Collector.
func (d *Drift) Collect(ch chan<- prom.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	runs, err := d.Store.DriftRuns(ctx)
	if err != nil {
		if d.Logger != nil {
			d.Logger.Warn("metrics: could not read the drift comparisons", "err", err)
		}
		return
	}
	for _, r := range runs {
		ch <- prom.MustNewConstMetric(descDriftChecked, prom.GaugeValue, unix(r.CheckedAt), r.Channel)
		ch <- prom.MustNewConstMetric(descDriftFailed, prom.GaugeValue, boolValue(r.LastError != ""), r.Channel)
		var counts map[string]float64
		if len(r.Counts) == 0 || json.Unmarshal(r.Counts, &counts) != nil {
			continue
		}
		kinds := make([]string, 0, len(counts))
		for k := range counts {
			kinds = append(kinds, k)
		}
		sort.Strings(kinds)
		for _, k := range kinds {
			ch <- prom.MustNewConstMetric(descDriftRows, prom.GaugeValue, counts[k], r.Channel, k)
		}
	}
}
