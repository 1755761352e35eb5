package activities

import (
	"context"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/ekm"
	"github.com/ekmsync/ekmsync/internal/store"
)

// StockOrder is the order of a pass's stock sends (store.SortStockPlan): low
// first in every worker. The peak-day benchmark sets store.StockArrival in its
// in-process worker for the baseline it compares with.
var StockOrder = store.StockLowFirst

// PushStock sends the quantity of each linked listing whose number to send (§3)
// differs from the one EKM last confirmed: one PUT per changed listing (the
// product's or the variant's stock endpoint) and nothing else, so N changes cost N
// requests, and a SKU that changed many times since its last send costs one, of
// its latest level. Listings whose EKM figure comes down to at most
// store.NearZero go first (StockOrder). Each send's result is recorded on its
// listing; one that EKM rejects never blocks the others. Nothing is sent while
// Update Inventory is off.
func (a *Activities) PushStock(ctx context.Context, in PushInput) (StepResult, error) {
	defer keepAlive(ctx, nil)()
	return pushListings(ctx, a, in, listingPush[store.StockLine]{
		kind:        store.PlanStock,
		on:          func(s channel.Settings) bool { return s.UpdateInventory },
		plan:        a.Store.PendingStock,
		order:       a.orderStock,
		overtaken:   a.urgentArrived,
		concurrency: stockConcurrency,
		send:        a.sendStock,
		shadow:      planStock,
	})
}

// urgentStock sends the stock of the Urgent listings (store.UrgentStock), as
// PushStock would send them first, within one batch bound: the despatch step
// calls it when it stops with despatches left, when the pass would not reach
// the stock step.
func (a *Activities) urgentStock(ctx context.Context, s channel.Settings) (StepResult, error) {
	if !s.UpdateInventory || s.Shadow || StockOrder != store.StockLowFirst {
		// The stock step records a shadow channel's plan; in arrival order (the
		// peak-day benchmark's baseline) nothing goes out of its turn.
		return StepResult{}, nil
	}
	lines, err := a.Store.UrgentStock(ctx, s)
	if err != nil {
		return StepResult{}, err
	}
	lines = slices.DeleteFunc(lines, func(l store.StockLine) bool { return !l.Pending(a.now()) })
	if len(lines) == 0 {
		return StepResult{}, nil
	}
	if err := a.orderStock(ctx, lines); err != nil {
		return StepResult{}, err
	}
	c, pctx, err := a.pushClient(ctx, s, ekm.PriorityStock)
	if err != nil {
		return StepResult{}, err
	}
	return a.sendAll(pctx, s, len(lines), stockConcurrency, nil, func(ctx context.Context, i int) (listingOutcome, error) {
		return a.sendStock(ctx, c, s, lines[i])
	})
}

// orderStock puts the pending stock lines in the order they are sent.
func (a *Activities) orderStock(ctx context.Context, pending []store.StockLine) error {
	if err := a.Store.StockChanges(ctx, pending); err != nil {
		return err
	}
	store.SortStockPlan(pending, StockOrder)
	return nil
}

// listingPush describes one listing value's push (stock or price). Its plan
// returns the lines whose value differs from the one EKM confirmed.
type listingPush[L interface{ Pending(time.Time) bool }] struct {
	kind  string                      // its kind in the push plan
	on    func(channel.Settings) bool // the setting that turns it on
	plan  func(context.Context, channel.Settings) ([]L, error)
	order func(context.Context, []L) error // puts the pending lines in sending order; nil: the plan's
	// overtaken reports whether lines that came since the plan was read should go
	// before line next of it (the step then stops, with more work left, for the
	// next pass to send them first); nil: never.
	overtaken   func(ctx context.Context, s channel.Settings, plan []L, next int) bool
	concurrency int
	send        func(context.Context, *ekm.Client, channel.Settings, L) (listingOutcome, error)
	shadow      func(channel.Settings, L) store.PlannedWrite // the write send would make, for shadow mode
}

// listingOutcome is what one listing's send came to.
type listingOutcome int

const (
	listingSent    listingOutcome = iota
	listingAlready                // EKM already showed the value: recorded without a write
	listingFailed                 // recorded on the listing, tried again later
)

// pushListings sends the value of each listing of the plan that is pending at the
// start, while the push's setting is on.
func pushListings[L interface{ Pending(time.Time) bool }](ctx context.Context, a *Activities, in PushInput, p listingPush[L]) (StepResult, error) {
	s, err := a.settings(ctx, in.Channel)
	if err != nil {
		return StepResult{}, err
	}
	if !s.Shadow || !p.on(s) {
		if err := a.planned(ctx, s, p.kind); err != nil || !p.on(s) {
			return StepResult{}, err
		}
	}
	plan, err := p.plan(ctx, s)
	if err != nil {
		return StepResult{}, err
	}
	start := a.now()
	var pending []L
	for _, l := range plan {
		if l.Pending(start) {
			pending = append(pending, l)
		}
	}
	if p.order != nil {
		if err := p.order(ctx, pending); err != nil {
			return StepResult{}, err
		}
	}
	if s.Shadow {
		writes := make([]store.PlannedWrite, len(pending))
		for i, l := range pending {
			writes[i] = p.shadow(s, l)
		}
		return StepResult{WouldSend: len(writes)}, a.Store.RecordPlan(ctx, s.ID, s.Name, p.kind, writes)
	}
	if len(pending) == 0 {
		return StepResult{}, nil
	}
	c, pctx, err := a.pushClient(ctx, s, ekm.PriorityStock)
	if err != nil {
		return StepResult{}, err
	}
	yield := func(next int) bool {
		return a.despatchesWaiting(ctx, s) || (p.overtaken != nil && p.overtaken(ctx, s, pending, next))
	}
	return a.sendAll(pctx, s, len(pending), p.concurrency, yield, func(ctx context.Context, i int) (listingOutcome, error) {
		return p.send(ctx, c, s, pending[i])
	})
}

// yieldAfter is how long a stock or price step sends before it looks, now and
// then, whether despatches came meanwhile; then it stops with more work left,
// so that the next pass starts with them. Looking only after it keeps each step
// making progress even while despatches are always waiting.
const yieldAfter = time.Second

// urgentArrived reports whether, with line next of the stock plan not Urgent
// (low first, the plan's urgent lines have all been started), a listing became
// Urgent since the plan was read: a SKU that came down to near zero while the
// step sends other levels goes out next pass, within a yield's look, instead of
// after the step's batch bound.
func (a *Activities) urgentArrived(ctx context.Context, s channel.Settings, plan []store.StockLine, next int) bool {
	if StockOrder != store.StockLowFirst || plan[next].Urgent() {
		return false
	}
	urgent, err := a.Store.UrgentStock(ctx, s)
	if err != nil {
		return false // the step goes on; the next pass plans anew anyway
	}
	started := make(map[store.ListingKey]bool, next)
	for _, l := range plan[:next] {
		started[l.ListingKey] = true
	}
	now := a.now()
	for _, l := range urgent {
		if l.Pending(now) && !started[l.ListingKey] {
			return true
		}
	}
	return false
}

// despatchesWaiting reports whether the despatch step has work it would send now.
func (a *Activities) despatchesWaiting(ctx context.Context, s channel.Settings) bool {
	if s.DespatchHold() != "" || s.Shadow {
		return false
	}
	work, err := a.Store.OrderWork(ctx, s.ID, store.Despatches, a.now(), 1)
	return err == nil && len(work) > 0
}

// sendAll runs send for items 0..n-1, up to concurrency at once, starting none
// after the batch bound, nor, after yieldAfter, once yield(i) (nil: never) says
// more urgent work waits than item i. send reports what came of the item; an
// error stops the call.
func (a *Activities) sendAll(ctx context.Context, s channel.Settings, n, concurrency int, yield func(int) bool,
	send func(context.Context, int) (listingOutcome, error)) (StepResult, error) {
	var (
		mu   sync.Mutex
		res  StepResult
		done int
	)
	start := a.now()
	looked := start
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(concurrency)
	for i := range n {
		now := a.now()
		if now.Sub(start) > pushBatchTime || gctx.Err() != nil {
			res.More = true
			break
		}
		if yield != nil && now.Sub(start) > yieldAfter && now.Sub(looked) > yieldAfter/4 {
			looked = now
			if yield(i) {
				res.More = true
				break
			}
		}
		g.Go(func() error {
			outcome, err := send(gctx, i)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				return err
			}
			done++
			switch outcome {
			case listingSent:
				res.Sent++
			case listingAlready:
				res.Already++
			default:
				res.Failed++
			}
			heartbeat(ctx, done)
			return nil
		})
	}
	err := g.Wait()
	return res, err
}

// sendStock sends one listing's quantity and records the result.
func (a *Activities) sendStock(ctx context.Context, c *ekm.Client, s channel.Settings, l store.StockLine) (listingOutcome, error) {
	var confirmed int64
	var err error
	if l.VariantID == 0 {
		var st ekm.ProductStock
		st, err = c.SetProductStock(ctx, l.ProductID, l.Desired)
		confirmed = st.Stock
	} else {
		var st ekm.VariantStock
		st, err = c.SetVariantStock(ctx, l.ProductID, l.VariantID, l.Desired)
		confirmed = st.Stock
	}
	detail := map[string]any{"product_id": l.ProductID, "variant_id": l.VariantID, "sent": l.Desired,
		"level": l.Level, "reserved": l.Reserved, "previous": l.Confirmed}
	send := store.ListingSend{ChannelID: s.ID, ListingKey: l.ListingKey, Sent: l.Desired, At: a.now()}
	if err == nil {
		detail["answer"] = confirmed
		send.Confirmed = &confirmed
		return listingSent, a.Store.RecordStockSend(context.WithoutCancel(ctx), send, auditEntry(s, "ekm.stock", l.SKU, detail))
	}
	return listingFailed, a.listingFailed(ctx, s, err, &send, l.Attempts, l.Error, detail, "ekm.stock", l.SKU, a.Store.RecordStockSend)
}

// listingFailed records a failed send of a listing's value, when it is the item's
// failure (see failure), and returns the error that stops the call, if any.
func (a *Activities) listingFailed(ctx context.Context, s channel.Settings, err error, send *store.ListingSend, attempts int, lastError string,
	detail map[string]any, action, sku string, record func(context.Context, store.ListingSend, store.AuditEntry) error) error {
	rec, backoff, stop := a.failure(ctx, s, err)
	if !rec {
		return stop
	}
	send.Error = reason(err)
	if backoff {
		n := 1
		if lastError != "" {
			n = attempts + 1
		}
		t := a.now().Add(rejectBackoff(n))
		send.RetryAfter = &t
	}
	detail["error"] = send.Error
	if err := record(context.WithoutCancel(ctx), *send, auditEntry(s, action, sku, detail)); err != nil {
		return err
	}
	return stop
}
