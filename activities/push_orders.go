package activities

import (
	"context"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/ekm"
	"github.com/ekmsync/ekmsync/internal/store"
)

// orderConcurrency is how many orders' outbound work (a despatch's tracking and
// status writes, a cancellation's status) runs at once: enough that the rate
// budget, not EKM's round trips, bounds a busy day's despatches. Each order's
// own writes stay one after another (the tracking before the status that e-mails
// the customer).
const orderConcurrency = 4

// eachOrder runs one order's outbound work for each open row of the set, within
// the batch bound, each under this call's claim on the row (push_claim.go): a row
// another attempt holds is left to it and counted busy. Rows go in groups of up to
// ekm.MaxPageSize: the group's rows are claimed first, then, when the work calls
// EKM (c not nil), EKM's state of all their orders is read with one order search,
// and the work of up to orderConcurrency rows runs at once. Reading after the
// claims is what keeps each write exactly once: an attempt that held a row before
// (and died after its write, before recording it) lost its claim before this one
// was granted, so its write is already in what the search returns
// (docs/channel-semantics.md §4). do gets the order as read (nil when the search
// did not return it: do reads it itself) and returns the outcome: sent, already
// on EKM, or not sent; its context ends when the claim is lost.
func (a *Activities) eachOrder(ctx context.Context, s channel.Settings, set store.WorkSet, c *ekm.Client,
	do func(context.Context, store.OrderWork, *ekm.Order) (string, error)) (StepResult, error) {
	return a.eachOrderThen(ctx, s, set, c, do, nil)
}

// eachOrderThen is eachOrder, running between (nil: nothing) after each group
// of rows that more rows follow.
func (a *Activities) eachOrderThen(ctx context.Context, s channel.Settings, set store.WorkSet, c *ekm.Client,
	do func(context.Context, store.OrderWork, *ekm.Order) (string, error), between func(context.Context) error) (StepResult, error) {
	var res StepResult
	owner := claimOwner(ctx)
	start := a.now()
	// One row more than a call does tells whether any is left after it.
	work, err := a.Store.OrderWork(ctx, s.ID, set, start, orderBatch+1)
	if err != nil {
		return res, err
	}
	if len(work) > orderBatch {
		work, res.More = work[:orderBatch], true
	}
	run := &orderGroupRun{a: a, s: s, res: &res}
	for done := 0; done < len(work); {
		if a.now().Sub(start) > pushBatchTime {
			res.More = true
			break
		}
		group := work[done:min(done+ekm.MaxPageSize, len(work))]
		done += len(group)
		claims, err := run.claim(ctx, group, owner, done)
		if err != nil {
			return res, err
		}
		shown := readShown(ctx, c, claims)
		if err := run.work(ctx, claims, shown, c != nil, do); err != nil {
			return res, err
		}
		if between != nil && done < len(work) {
			if err := between(ctx); err != nil {
				return res, err
			}
		}
	}
	return res, nil
}

// orderGroupRun is one call of eachOrder: its counts, shared by the rows at work.
type orderGroupRun struct {
	a   *Activities
	s   channel.Settings
	mu  sync.Mutex
	res *StepResult
}

// claimedRow is a row this call claimed, with the context its work runs in.
type claimedRow struct {
	ctx   context.Context
	claim *orderClaim
}

// claim claims the group's rows, counting those another attempt holds busy.
func (r *orderGroupRun) claim(ctx context.Context, group []store.OrderWork, owner string, done int) ([]claimedRow, error) {
	var claims []claimedRow
	for i, w := range group {
		heartbeat(ctx, done-len(group)+i)
		wctx, claim, ok, err := r.a.claimOrder(ctx, w, owner)
		if err != nil {
			for _, c := range claims {
				c.claim.release(ctx)
			}
			return nil, err
		}
		if !ok {
			r.res.Busy++
			continue
		}
		claims = append(claims, claimedRow{wctx, claim})
	}
	return claims, nil
}

// work runs do for each claimed row, up to orderConcurrency at once when the work
// calls EKM (concurrent), and releases each claim when its row is done. A failure
// that stops the call (failure) starts no further row; the rows at work finish.
func (r *orderGroupRun) work(ctx context.Context, claims []claimedRow, shown map[int64]ekm.Order, concurrent bool,
	do func(context.Context, store.OrderWork, *ekm.Order) (string, error)) error {
	var g errgroup.Group
	g.SetLimit(1)
	if concurrent {
		g.SetLimit(orderConcurrency)
	}
	var stopped error
	for i, cl := range claims {
		r.mu.Lock()
		stop := stopped
		r.mu.Unlock()
		if stop != nil {
			for _, rest := range claims[i:] {
				rest.claim.release(ctx)
			}
			break
		}
		g.Go(func() error {
			w := cl.claim.w
			var order *ekm.Order
			if o, ok := shown[w.EKMOrderID]; ok {
				order = &o
			}
			outcome, err := do(cl.ctx, w, order)
			cl.claim.release(ctx)
			if err := r.count(ctx, cl.ctx, w, outcome, err); err != nil {
				r.mu.Lock()
				stopped = err
				r.mu.Unlock()
			}
			return nil
		})
	}
	_ = g.Wait()
	return stopped
}

// count adds one row's outcome to the call's result, recording a failure on the
// row; it returns the error that stops the call, if any.
func (r *orderGroupRun) count(ctx, wctx context.Context, w store.OrderWork, outcome string, err error) error {
	if err != nil && claimLostIn(wctx, err) {
		r.mu.Lock()
		r.res.Busy++
		r.mu.Unlock()
		return nil
	}
	if err != nil {
		record, backoff, stop := r.a.failure(ctx, r.s, err)
		if record {
			if err := r.a.failOrder(ctx, r.s, w, err, backoff); err != nil {
				return err
			}
		}
		if stop != nil {
			return stop
		}
		r.mu.Lock()
		r.res.Failed++
		r.mu.Unlock()
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	switch outcome {
	case store.OutcomeSent:
		r.res.Sent++
	case store.OutcomeAlreadyOnEKM, store.OutcomeShippedOnChannel:
		r.res.Already++
	default:
		r.res.NotSent++
	}
	return nil
}

// readShown reads EKM's state of the claimed rows' orders with one request
// (ordersByID: a search by ids, a GET for one). It returns nil when c is nil or
// the read failed: each row's work then reads its own order, so that a failure
// is recorded on the row as it always was.
func readShown(ctx context.Context, c *ekm.Client, claims []claimedRow) map[int64]ekm.Order {
	if c == nil || len(claims) == 0 {
		return nil
	}
	ids := make([]int64, len(claims))
	for i, cl := range claims {
		ids[i] = cl.claim.w.EKMOrderID
	}
	raws, err := ordersByID(ctx, c, without(ids, nil))
	if err != nil {
		return nil
	}
	shown := make(map[int64]ekm.Order, len(raws))
	for _, raw := range raws {
		if o, err := ekm.DecodeOrder(raw); err == nil {
			shown[o.ID] = o
		}
	}
	return shown
}

// shownOrder is EKM's state of w's order: shown when the group's read returned
// it, else read now.
func shownOrder(ctx context.Context, c *ekm.Client, w store.OrderWork, shown *ekm.Order) (ekm.Order, error) {
	if shown != nil {
		return *shown, nil
	}
	return c.GetOrder(ctx, w.EKMOrderID)
}
