package activities

import (
	"context"
	"encoding/json"
	"strconv"
	"sync"
	"time"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/ekm"
	"github.com/ekmsync/ekmsync/internal/order"
)

// orderRun processes pages of raw EKM orders for one channel: decode, decide,
// fetch the items of new orders, and commit each page in one transaction. The
// sync, the webhook hints and the back-fill share it.
type orderRun struct {
	a      *Activities
	s      channel.Settings
	client *ekm.Client
	now    time.Time
	// onRequest is called after each EKM request of a page being prepared, to
	// heartbeat while a page's items are fetched.
	onRequest func()

	mu  sync.Mutex
	res *OrderCounts
}

// prepare runs the order package's decision pass over a page of raw orders.
func (r *orderRun) prepare(ctx context.Context, raws []json.RawMessage) (*order.Page, error) {
	pass := order.Pass{Store: r.a.Store, Client: r.client, Settings: r.s, Now: r.now, OnRequest: r.onRequest}
	return pass.Prepare(ctx, raws)
}

// commit writes a prepared page (moving the Order Sync Date to syncDate if set)
// and adds what it did to the run's counts.
func (r *orderRun) commit(ctx context.Context, p *order.Page, syncDate *time.Time) error {
	p.Page.SyncDate = syncDate
	outcomes, err := r.a.Store.WriteOrderPage(ctx, p.Page)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.res
	c.Requests += p.Requests
	for i, o := range outcomes {
		k := p.Kinds[i]
		switch {
		case o.Quarantined != "":
			// The hub could not store it: it is in order_problems, re-read on
			// every sync, and a back-fill by id retries it after a fix.
			id := k.ID
			p.Problems = append(p.Problems, Quarantined{Key: strconv.FormatInt(id, 10), OrderID: &id, Reason: order.ClipReason(o.Quarantined)})
		case o.Inserted:
			c.New++
			if k.Unpaid {
				c.Parked++
			}
		case o.Changed:
			c.Updated++
			switch {
			case k.Action == channel.ActionCancel && k.WasOpen:
				c.Cancelled++
			case k.Action == channel.ActionShip && k.WasOpen:
				c.ShippedOnChannel++
			case k.WasParked && !k.Unpaid:
				c.Unparked++
			}
		default:
			c.Unchanged++
		}
	}
	for _, s := range p.Skips {
		addSkip(c, s)
	}
	c.Quarantined += len(p.Problems)
	if len(c.Problems) < maxListed {
		c.Problems = append(c.Problems, p.Problems[:min(len(p.Problems), maxListed-len(c.Problems))]...)
	}
	return nil
}
