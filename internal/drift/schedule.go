package drift

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/ekm"
	"github.com/ekmsync/ekmsync/internal/jobs"
	"github.com/ekmsync/ekmsync/internal/shop"
	"github.com/ekmsync/ekmsync/internal/store"
)

// Run compares the channel (Compare) and records the comparison's figures, or
// why it failed, in the hub (drift_runs), where the metrics read them.
func Run(ctx context.Context, st *store.Store, c *ekm.Client, s channel.Settings, opts Options) (Report, error) {
	r, err := Compare(ctx, st, c, s, opts)
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	// Recorded even when the caller's context ended: the claim must be released.
	rec, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if recErr := st.RecordDriftRun(rec, s.ID, r.At, r.Counts, msg); recErr != nil {
		return r, errors.Join(err, fmt.Errorf("record the comparison: %w", recErr))
	}
	return r, err
}

// Scheduler runs each enabled channel's comparison every drift-interval, in every
// worker: a claim in PostgreSQL (Store.ClaimDueDrift) makes exactly one of them
// run a due comparison, and a worker that dies holding one leaves it to another
// once the lease lapses. It reports (logs and the metrics); healing stays the
// operator's ('starter channel drift --heal'), who sees the rows first.
type Scheduler struct {
	Store     *store.Store
	Connector *shop.Connector
	Logger    *slog.Logger
	// Poll is how often due comparisons are looked for (default a minute).
	Poll time.Duration
	// Lease bounds one comparison's claim (default an hour: a shop of 20,000
	// products is about 1,000 pages at listing priority).
	Lease time.Duration
}

// Run looks for due comparisons until ctx ends.
func (s *Scheduler) Run(ctx context.Context) { s.job().Loop(ctx) }

// Pass runs the comparisons due now, one claimed channel at a time, and returns
// how many ran.
func (s *Scheduler) Pass(ctx context.Context) (int, error) { return s.job().Pass(ctx) }

// job is the comparison as a claimed job.
func (s *Scheduler) job() *jobs.Claimed {
	return &jobs.Claimed{Name: "drift", Claim: s.Store.ClaimDueDrift, Run: s.one, Poll: s.Poll, Lease: s.Lease, Logger: s.logger()}
}

// one runs the claimed channel's comparison; its failure is recorded on the
// channel (and logged), never stopping the other channels.
func (s *Scheduler) one(ctx context.Context, id int64) {
	settings, err := s.Store.ChannelByID(ctx, id)
	if err != nil {
		_ = s.Store.RecordDriftRun(ctx, id, time.Now(), nil, "read the channel: "+err.Error())
		return
	}
	log := s.logger().With("channel", settings.Name)
	c, err := s.Connector.Client(ctx, settings)
	if err != nil {
		_ = s.Store.RecordDriftRun(ctx, id, time.Now(), nil, err.Error())
		log.Warn("drift: the scheduled comparison could not reach EKM", "err", err)
		return
	}
	r, err := Run(ctx, s.Store, c, settings, Options{Since: time.Now().Add(-DefaultWindow)})
	switch {
	case err != nil:
		log.Warn("drift: the scheduled comparison failed", "err", err)
	case r.Counts.Drifted() > 0:
		log.Warn("drift: EKM differs from the hub; 'starter channel drift "+settings.Name+" --drifted-only' lists the rows, --heal repairs them",
			"drifted", r.Counts.Drifted(), "stock", r.Counts.Stock, "price", r.Counts.Price, "missed_orders", r.Counts.MissedOrders,
			"not_on_ekm", r.Counts.NotOnEKM, "shipped_on_ekm", r.Counts.ShippedOnEKM, "cancelled_on_ekm", r.Counts.CancelledOnEKM,
			"shipped_in_hub", r.Counts.ShippedInHub)
	default:
		log.Info("drift: EKM agrees with the hub", "stock", r.Compared.Stock, "price", r.Compared.Price, "ekm_orders", r.Compared.EKMOrders)
	}
}

func (s *Scheduler) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}
