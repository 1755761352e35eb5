package activities

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sort"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"
	"golang.org/x/sync/errgroup"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/ekm"
	"github.com/ekmsync/ekmsync/internal/order"
	"github.com/ekmsync/ekmsync/internal/shop"
	"github.com/ekmsync/ekmsync/internal/store"
)

// InitialLookback is how far back a channel's first order sync reads (it has no
// Order Sync Date yet): a week, which holds every order a shop still has to act
// on, including the cancelled ones the rules download (under 7 days old). Older
// history comes in on request with 'starter orders backfill'.
const InitialLookback = 7 * 24 * time.Hour

// maxListed bounds the examples a result lists (skipped ids, quarantined orders):
// results travel through Temporal, and the hub has the whole story.
const maxListed = 20

// addSkip counts an order skipped for s's reason, keeping a few ids per reason.
func addSkip(c *OrderCounts, s order.Skip) {
	c.Skipped++
	for i := range c.Skips {
		if c.Skips[i].Reason == s.Reason {
			c.Skips[i].Count++
			if len(c.Skips[i].OrderIDs) < 5 {
				c.Skips[i].OrderIDs = append(c.Skips[i].OrderIDs, s.ID)
			}
			return
		}
	}
	c.Skips = append(c.Skips, SkipReason{Reason: s.Reason, Count: 1, OrderIDs: []int64{s.ID}})
	sort.Slice(c.Skips, func(i, j int) bool { return c.Skips[i].Reason < c.Skips[j].Reason })
}

// syncProgress is a sync's heartbeat: the cursor after the last committed page
// and what the run did up to it, so that a retried run resumes there.
type syncProgress struct {
	Cursor  *order.Cursor `json:"cursor,omitempty"`
	Counts  OrderCounts   `json:"counts"`
	Updated *time.Time    `json:"updated,omitempty"`
}

// SyncOrders runs one order sync of a channel (docs/channel-semantics.md §2): the
// orders placed since the Order Sync Date less the overlap (or changed on EKM
// since the last run), oldest first, committed page by page with the Order Sync
// Date; then the parked, watched and quarantined orders and the webhook hints,
// by id. A channel that is not ok is not called: the result says why. It
// heartbeats and resumes from the last committed page.
func (a *Activities) SyncOrders(ctx context.Context, in SyncOrdersInput) (res SyncOrdersResult, err error) {
	now := a.now()
	s, err := a.settings(ctx, in.Channel)
	if err != nil {
		return res, err
	}
	res = SyncOrdersResult{Channel: s.Name, Status: s.Status(), Interval: s.OrderSyncInterval, StartedAt: now}
	if res.Status.State != channel.StateOK {
		res.FinishedAt = a.now()
		return res, nil
	}
	defer func() { err = a.orderFailure(ctx, s, "orders", err) }()
	run, ctx, err := a.newOrderRun(ctx, s, now, &res.OrderCounts)
	if err != nil {
		return res, err
	}
	res.Ran = true
	state, err := a.Store.OrderSync(ctx, s.ID)
	if err != nil {
		return res, err
	}
	var seen []int64
	if !in.HintsOnly {
		if err := a.Store.StartOrderSyncRun(ctx, s.ID); err != nil {
			return res, err
		}
		since := now.Add(-InitialLookback)
		if state.SyncDate != nil {
			since = state.SyncDate.Add(-s.OrderOverlap)
		}
		var updatedSince *time.Time
		if state.UpdatedCursor != nil {
			t := state.UpdatedCursor.Add(-s.OrderOverlap)
			updatedSince = &t
		}
		var progress syncProgress
		if activity.IsActivity(ctx) && activity.HasHeartbeatDetails(ctx) {
			_ = activity.GetHeartbeatDetails(ctx, &progress)
			res.OrderCounts = progress.Counts
		}
		progress, seen, err = run.walk(ctx, order.WindowFilter(since, updatedSince), progress, true)
		if err != nil {
			return res, err
		}
		recheck, err := a.Store.RecheckIDs(ctx, s.ID, now.Add(-order.WatchFor))
		if err != nil {
			return res, err
		}
		in.Hints = append(in.Hints, recheck...)
		defer func() {
			if err == nil {
				res.FinishedAt = a.now()
				err = a.Store.FinishOrderSyncRun(ctx, s.ID, progress.Updated, res)
			}
		}()
	}
	ids := without(in.Hints, seen)
	if !in.HintsOnly {
		res.Rechecked = len(ids)
	}
	found, err := run.byID(ctx, ids)
	if err != nil {
		return res, err
	}
	for _, id := range in.Hints {
		if in.HintsOnly && !slices.Contains(found, id) && !slices.Contains(res.HintsMissing, id) {
			res.HintsMissing = append(res.HintsMissing, id)
		}
	}
	// The webhook receiver hands these ids over again only after a while: a forged
	// or stale id costs EKM one request, not one per webhook.
	if err := a.Store.MarkHintsNotFound(ctx, s.ID, res.HintsMissing, store.HintNotFoundFor); err != nil {
		return res, err
	}
	if st, err := a.Store.OrderSync(ctx, s.ID); err == nil {
		res.SyncDate = st.SyncDate
	}
	res.FinishedAt = a.now()
	return res, nil
}

// newOrderRun connects to the channel's shop for an order run; the returned
// context asks the shared rate budget for order priority.
func (a *Activities) newOrderRun(ctx context.Context, s channel.Settings, now time.Time, counts *OrderCounts) (*orderRun, context.Context, error) {
	client, err := a.Shop.Client(ctx, s)
	if err != nil {
		return nil, ctx, err
	}
	return &orderRun{a: a, s: s, client: client, now: now, res: counts}, ekm.WithPriority(ctx, ekm.PriorityOrders), nil
}

// walk runs an order search from progress.Cursor to its end, preparing the next
// page (its items included) while the previous one commits, and heartbeating the
// committed progress. With moveSyncDate, each page's commit moves the Order Sync
// Date to the order date the page ends at. It returns the final progress and the
// ids it read.
func (r *orderRun) walk(ctx context.Context, filter string, progress syncProgress, moveSyncDate bool) (syncProgress, []int64, error) {
	var mu sync.Mutex // guards progress and seen
	var seen []int64
	heartbeat := func() {
		if activity.IsActivity(ctx) {
			mu.Lock()
			r.mu.Lock()
			progress.Counts = *r.res
			details := progress
			r.mu.Unlock()
			mu.Unlock()
			activity.RecordHeartbeat(ctx, details)
		}
	}
	r.onRequest = heartbeat
	type page struct {
		p   *order.Page
		end *order.Cursor
	}
	pages := make(chan page, 1)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer close(pages)
		return searchPages(gctx, r.client, filter, progress.Cursor, func(raws []json.RawMessage, end *order.Cursor) error {
			p, err := r.prepare(gctx, raws)
			if err != nil {
				return err
			}
			p.Requests++ // the page itself
			select {
			case pages <- page{p, end}:
				return nil
			case <-gctx.Done():
				return gctx.Err()
			}
		})
	})
	g.Go(func() error {
		for pg := range pages {
			var date *time.Time
			if moveSyncDate && pg.end != nil {
				date = &pg.end.Date
			}
			if err := r.commit(gctx, pg.p, date); err != nil {
				return err
			}
			mu.Lock()
			r.mu.Lock()
			r.res.Pages++
			r.mu.Unlock()
			if pg.end != nil {
				progress.Cursor = pg.end
			}
			if u := pg.p.Updated; u != nil && (progress.Updated == nil || u.After(*progress.Updated)) {
				progress.Updated = u
			}
			seen = append(seen, pg.p.IDs...)
			mu.Unlock()
			heartbeat()
		}
		return nil
	})
	err := g.Wait()
	mu.Lock()
	defer mu.Unlock()
	r.mu.Lock()
	progress.Counts = *r.res
	r.mu.Unlock()
	return progress, seen, err
}

// byID fetches orders by id (20 per request) and processes them like a page,
// without moving the Order Sync Date. It returns the ids EKM returned.
func (r *orderRun) byID(ctx context.Context, ids []int64) ([]int64, error) {
	var found []int64
	for start := 0; start < len(ids); start += ekm.MaxPageSize {
		chunk := ids[start:min(start+ekm.MaxPageSize, len(ids))]
		raws, err := ordersByID(ctx, r.client, chunk)
		if err != nil {
			return found, err
		}
		p, err := r.prepare(ctx, raws)
		if err != nil {
			return found, err
		}
		p.Requests++
		if err := r.commit(ctx, p, nil); err != nil {
			return found, err
		}
		found = append(found, p.IDs...)
		for _, pr := range p.Problems {
			if pr.OrderID != nil {
				found = append(found, *pr.OrderID)
			}
		}
	}
	return found, nil
}

// orderFailure records a failed order step for 'channel show' (unless it is the
// channel's state, which its status already says) and classifies it for Temporal.
func (a *Activities) orderFailure(ctx context.Context, s channel.Settings, flow string, err error) error {
	if err == nil {
		return nil
	}
	if ctx.Err() == nil && !errors.Is(err, shop.ErrDisabled) && !errors.Is(err, shop.ErrNeedsReauth) && !ekm.IsNeedsReauth(err) {
		_ = a.Store.RecordError(context.WithoutCancel(ctx), s.ID, flow, reason(err))
	}
	return classify(err)
}

// without returns ids not in seen, sorted and without repeats.
func without(ids, seen []int64) []int64 {
	skip := map[int64]bool{}
	for _, id := range seen {
		skip[id] = true
	}
	var out []int64
	for _, id := range ids {
		if !skip[id] {
			skip[id] = true
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}
