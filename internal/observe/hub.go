package observe

import (
	"context"
	"errors"
	"log/slog"
	"time"

	prom "github.com/prometheus/client_golang/prometheus"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/store"
	"github.com/ekmsync/ekmsync/workflows"
)

// scrapeTimeout bounds one scrape's reads of the hub and of Temporal.
const scrapeTimeout = 5 * time.Second

// maxLoopChecks bounds the channels whose loops one scrape asks Temporal about
// (two cheap calls each); beyond it the loop gauges are left out.
const maxLoopChecks = 200

func desc(name, help string, labels ...string) *prom.Desc {
	return prom.NewDesc(name, help, labels, nil)
}

var (
	descState         = desc("ekmsync_channel_state", "1 for the channel's current state (ok, disabled, needs-reauth, misconfigured), else 0", "channel", "state")
	descLastSync      = desc("ekmsync_order_sync_last_success_timestamp_seconds", "when the channel's last order sync finished without error (Unix time; 0: never)", "channel")
	descSyncInterval  = desc("ekmsync_order_sync_interval_seconds", "the channel's order-sync-interval setting", "channel")
	descQuarantined   = desc("ekmsync_orders_quarantined", "the channel's unresolved quarantined orders ('starter orders problems')", "channel")
	descListingActive = desc("ekmsync_listing_download_in_progress", "1 while the channel's listing download runs", "channel")
	descPagesDone     = desc("ekmsync_listing_download_pages_done", "pages of the current (or last) listing download done", "channel")
	descPagesTotal    = desc("ekmsync_listing_download_pages_total", "pages of the current (or last) listing download in all (0: not known yet)", "channel")
	descListingETA    = desc("ekmsync_listing_download_eta_timestamp_seconds", "estimated completion of the running listing download (Unix time; 0: not known)", "channel")
	descListingMoved  = desc("ekmsync_listing_download_updated_timestamp_seconds", "when the listing download's state last moved (Unix time)", "channel")
	descTokenAge      = desc("ekmsync_refresh_token_age_seconds", "age of the channel's refresh token (EKM's lapse 15 days after their last use)", "channel")
	descLoop          = desc("ekmsync_loop_running", "1 when the channel's loop workflow (order-sync, channel-push) runs in Temporal", "channel", "loop")
	descScrapeError   = desc("ekmsync_hub_scrape_error", "1 when this scrape could not read the hub (the per-channel gauges are then missing)")
)

// Hub is a Prometheus collector of each channel's health, read from PostgreSQL
// (and the loops' state from Temporal) at scrape time: every worker replica reports
// the same truth, and nothing is kept in memory between scrapes.
type Hub struct {
	// Store is the hub: channels, their health facts (and the notification claims).
	Store *store.Store
	// Temporal answers whether the loops run; nil leaves ekmsync_loop_running out.
	Temporal client.Client
	// Logger receives a warning when a scrape cannot read the hub; nil discards.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Describe implements prometheus.Collector.
func (h *Hub) Describe(ch chan<- *prom.Desc) {
	for _, d := range []*prom.Desc{descState, descLastSync, descSyncInterval, descQuarantined, descListingActive,
		descPagesDone, descPagesTotal, descListingETA, descListingMoved, descTokenAge, descLoop, descScrapeError} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (h *Hub) Collect(ch chan<- prom.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	channels, health, err := h.read(ctx)
	failed := 0.0
	if err != nil {
		failed = 1
		if h.Logger != nil {
			h.Logger.Warn("metrics: could not read the hub", "err", err)
		}
	}
	ch <- prom.MustNewConstMetric(descScrapeError, prom.GaugeValue, failed)
	now := time.Now()
	if h.Now != nil {
		now = h.Now()
	}
	for _, s := range channels {
		gauge := func(d *prom.Desc, v float64, labels ...string) {
			ch <- prom.MustNewConstMetric(d, prom.GaugeValue, v, append([]string{s.Name}, labels...)...)
		}
		state := s.Status().State
		for _, st := range []channel.State{channel.StateOK, channel.StateDisabled, channel.StateNeedsReauth, channel.StateMisconfigured} {
			gauge(descState, boolValue(st == state), string(st))
		}
		gauge(descSyncInterval, s.OrderSyncInterval.Seconds())
		hh := health[s.ID]
		gauge(descLastSync, unix(hh.LastOrderSync))
		gauge(descQuarantined, float64(hh.Quarantined))
		gauge(descListingActive, boolValue(hh.ListingInProgress))
		gauge(descPagesDone, float64(hh.ListingPagesDone))
		total := int64(0)
		if hh.ListingPagesTotal != nil {
			total = *hh.ListingPagesTotal
		}
		gauge(descPagesTotal, float64(total))
		eta := 0.0
		if hh.ListingInProgress {
			eta = unix(hh.ListingETA)
		}
		gauge(descListingETA, eta)
		gauge(descListingMoved, unix(hh.ListingUpdatedAt))
		if hh.TokensAt != nil {
			gauge(descTokenAge, max(now.Sub(*hh.TokensAt).Seconds(), 0))
		}
	}
	if h.Temporal != nil && len(channels) <= maxLoopChecks {
		for _, s := range channels {
			for loop, id := range map[string]string{"order-sync": workflows.OrderSyncID(s.Name), "channel-push": workflows.ChannelPushID(s.Name)} {
				running, err := h.running(ctx, id)
				if err != nil {
					continue // not known: better no series than a false alarm
				}
				ch <- prom.MustNewConstMetric(descLoop, prom.GaugeValue, boolValue(running), s.Name, loop)
			}
		}
	}
}

func (h *Hub) read(ctx context.Context) ([]channel.Settings, map[int64]store.ChannelHealth, error) {
	channels, err := h.Store.Channels(ctx)
	if err != nil {
		return nil, nil, err
	}
	health, err := h.Store.ChannelHealth(ctx)
	if err != nil {
		return nil, nil, err
	}
	return channels, health, nil
}

// running asks Temporal whether the workflow id's latest run is running; a
// workflow that never ran is not running.
func (h *Hub) running(ctx context.Context, id string) (bool, error) {
	d, err := h.Temporal.DescribeWorkflowExecution(ctx, id, "")
	if err != nil {
		if isNotFound(err) {
			return false, nil
		}
		return false, err
	}
	return d.GetWorkflowExecutionInfo().GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, nil
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func unix(t *time.Time) float64 {
	if t == nil {
		return 0
	}
	return float64(t.UnixMilli()) / 1000
}

func isNotFound(err error) bool {
	var nf *serviceerror.NotFound
	return errors.As(err, &nf)
}
