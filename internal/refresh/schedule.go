package refresh

import (
	"context"
	"log/slog"
	"time"

	"github.com/ekmsync/ekmsync/internal/jobs"
	"github.com/ekmsync/ekmsync/internal/shop"
	"github.com/ekmsync/ekmsync/internal/store"
)

// Scheduler refreshes each enabled channel's listings every
// listing-refresh-interval, in every worker: a claim in PostgreSQL
// (Store.ClaimDueRefresh) makes exactly one of them run a due refresh, and a
// worker that dies holding one leaves it to another once the lease lapses. A
// channel is due once a listing download has finished, none is in progress,
// and the interval has passed since the later of its last refresh and that
// download's start.
type Scheduler struct {
	Store     *store.Store
	Connector *shop.Connector
	Logger    *slog.Logger // nil discards
}

// lease bounds one refresh's claim: MaxPages at EKM's 2 requests a second,
// behind orders and stock, with room to spare.
const lease = 30 * time.Minute

// Run looks for due refreshes, every minute, until ctx ends.
func (s *Scheduler) Run(ctx context.Context) { s.job().Loop(ctx) }

// Pass runs the refreshes due now and returns how many ran.
func (s *Scheduler) Pass(ctx context.Context) (int, error) { return s.job().Pass(ctx) }

func (s *Scheduler) job() *jobs.Claimed {
	return &jobs.Claimed{Name: "listing refresh", Claim: s.Store.ClaimDueRefresh, Run: s.one, Lease: lease, Logger: s.logger()}
}

// one runs the claimed channel's refresh; its failure is recorded on the channel
// (and logged).
func (s *Scheduler) one(ctx context.Context, id int64) {
	settings, err := s.Store.ChannelByID(ctx, id)
	if err != nil {
		_ = s.Store.RecordListingRefresh(ctx, id, time.Now(), 0, 0, "read the channel: "+err.Error())
		return
	}
	log := s.logger().With("channel", settings.Name)
	c, err := s.Connector.Client(ctx, settings)
	if err != nil {
		_ = s.Store.RecordListingRefresh(ctx, id, time.Now(), 0, 0, err.Error())
		log.Warn("listing refresh: could not reach EKM", "err", err)
		return
	}
	r, err := Run(ctx, s.Store, c, settings)
	if err != nil {
		log.Warn("listing refresh failed; 'starter listings status "+settings.Name+"' shows it", "err", err)
		return
	}
	log.Info("listing refresh", "products", r.Products, "listings", r.Listings, "restored", r.Restored,
		"problems", r.Problems, "more", r.More, "skipped", r.Skipped)
}

func (s *Scheduler) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}
