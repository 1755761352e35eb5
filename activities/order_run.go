package activities

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/ekm"
	"github.com/ekmsync/ekmsync/internal/store"
)

// watchFor is how long after its order date a skipped, unpaid order is re-read by
// id on every sync in case it becomes paid (webhooks and the last_updated pass
// catch later payments too). A week covers card retries and most bank transfers;
// older orders come in with 'orders backfill'.
const watchFor = 7 * 24 * time.Hour

// itemFetches is how many orders' items are fetched at once: the rate budget is
// the bottleneck, and a few requests in flight hide the round trips.
const itemFetches = 4

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

// prepared is one page, decided and with its new orders' items, ready to commit.
type prepared struct {
	page     store.OrderPage
	kinds    []orderKind // per page.Orders
	skips    []skipped
	problems []Quarantined
	requests int
	updated  *time.Time // newest EKM last_updated among the page's orders
	ids      []int64    // every order id the page read
}

type orderKind struct {
	id        int64
	wasParked bool
	inHub     bool
	wasOpen   bool
	action    channel.Action
	unpaid    bool // stored unpaid
}

type skipped struct {
	id     int64
	reason string
}

// prepare decodes and decides a page of raw orders and fetches the items of the
// new ones it stores. Nothing is written.
func (r *orderRun) prepare(ctx context.Context, raws []json.RawMessage) (*prepared, error) {
	p := &prepared{page: store.OrderPage{ChannelID: r.s.ID}}
	type good struct {
		order ekm.Order
		raw   json.RawMessage
	}
	var orders []good
	for _, raw := range raws {
		o, err := ekm.DecodeOrder(raw)
		if err == nil {
			if why := unknownStatus(r.s, o.Status); why != "" {
				err = errors.New(why)
			}
		}
		if err != nil {
			p.quarantine(raw, err)
			continue
		}
		p.ids = append(p.ids, o.ID)
		orders = append(orders, good{o, raw})
	}
	hub, err := r.a.Store.HubOrders(ctx, r.s.ID, p.ids)
	if err != nil {
		return nil, err
	}
	type fetch struct {
		index int
		items []ekm.OrderItem
		err   error // why the items could not be read
	}
	var news []*fetch
	decisions := make([]channel.OrderDecision, len(orders))
	for i, g := range orders {
		o := g.order
		if o.LastUpdated != nil && (p.updated == nil || o.LastUpdated.After(*p.updated)) {
			t := o.LastUpdated.Time
			p.updated = &t
		}
		var h *store.OrderState
		if ho, ok := hub[o.ID]; ok {
			h = &ho
		}
		d := decideOrder(r.s, o, h, r.now)
		decisions[i] = d
		p.page.Resolved = append(p.page.Resolved, o.ID)
		switch {
		case d.Action == channel.ActionSkip:
			p.skips = append(p.skips, skipped{o.ID, d.Reason})
			if mayBecomePaid(d) && r.now.Sub(o.OrderDate.Time) < watchFor {
				p.page.Watch = append(p.page.Watch, store.WatchEntry{EKMOrderID: o.ID, OrderDate: o.OrderDate.Time, Reason: d.Reason})
			} else {
				p.page.Unwatch = append(p.page.Unwatch, o.ID)
			}
		case h == nil:
			news = append(news, &fetch{index: i})
		}
	}
	// The items of new orders: one request each.
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(itemFetches)
	for _, f := range news {
		g.Go(func() error {
			items, err := r.client.OrderItems(gctx, orders[f.index].order.ID)
			if r.onRequest != nil {
				r.onRequest()
			}
			if ekm.KindOf(err) == ekm.KindNotFound || ekm.KindOf(err) == ekm.KindInvalidData {
				f.items, f.err = nil, err // quarantined below
				return nil
			}
			if err != nil {
				return fmt.Errorf("items of order %d: %w", orders[f.index].order.ID, err)
			}
			f.items = items
			if f.items == nil {
				f.items = []ekm.OrderItem{}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	p.requests += len(news)
	items := map[int]*fetch{}
	var skus []string
	for _, f := range news {
		items[f.index] = f
		for _, it := range f.items {
			skus = append(skus, it.ProductCode)
		}
	}
	rates, err := r.a.Store.StockTaxRates(ctx, r.s.ID, skus)
	if err != nil {
		return nil, err
	}
	for i, g := range orders {
		d := decisions[i]
		if d.Action == channel.ActionSkip {
			continue
		}
		var lines []ekm.OrderItem
		if f, ok := items[i]; ok {
			if f.items == nil {
				p.quarantine(g.raw, fmt.Errorf("order %d: its items could not be read from EKM: %s", g.order.ID, itemsReason(f.err)))
				p.page.Resolved = slices.DeleteFunc(p.page.Resolved, func(id int64) bool { return id == g.order.ID })
				continue
			}
			lines = f.items
		}
		row, lineRows := orderRow(r.s, g.order, g.raw, d, lines, rates)
		action := store.OrderStore
		switch d.Action {
		case channel.ActionCancel:
			action = store.OrderCancel
		case channel.ActionShip:
			action = store.OrderShip
		}
		p.page.Orders = append(p.page.Orders, store.OrderWrite{Action: action, Order: row, Lines: lineRows})
		p.page.Unwatch = append(p.page.Unwatch, g.order.ID)
		h, inHub := hub[g.order.ID]
		p.kinds = append(p.kinds, orderKind{id: g.order.ID, wasParked: inHub && h.Parked, inHub: inHub,
			wasOpen: inHub && h.Status == "open", action: d.Action,
			unpaid: !d.Paid && !(inHub && h.Paid)})
	}
	return p, nil
}

// quarantine records a raw order that cannot be used, with the reason.
func (p *prepared) quarantine(raw json.RawMessage, err error) {
	reason := err.Error()
	if e := ekm.AsError(err); e != nil && e.Err != nil {
		reason = e.Err.Error()
	}
	reason = clipReason(reason)
	pr := store.OrderProblem{Reason: reason, Raw: string(raw)}
	if k, ok := keyOf(raw); ok {
		id := k.ID
		pr.EKMOrderID, pr.Key = &id, strconv.FormatInt(id, 10)
	} else {
		var partial struct {
			ID int64 `json:"id"`
		}
		if json.Unmarshal(raw, &partial) == nil && partial.ID > 0 {
			id := partial.ID
			pr.EKMOrderID, pr.Key = &id, strconv.FormatInt(id, 10)
		} else {
			sum := sha256.Sum256(raw)
			pr.Key = "sha256:" + hex.EncodeToString(sum[:8])
		}
	}
	p.page.Problems = append(p.page.Problems, pr)
	p.problems = append(p.problems, Quarantined{Key: pr.Key, OrderID: pr.EKMOrderID, Reason: reason})
}

// commit writes a prepared page (moving the Order Sync Date to syncDate if set)
// and adds what it did to the run's counts.
func (r *orderRun) commit(ctx context.Context, p *prepared, syncDate *time.Time) error {
	p.page.SyncDate = syncDate
	outcomes, err := r.a.Store.WriteOrderPage(ctx, p.page)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.res
	c.Requests += p.requests
	for i, o := range outcomes {
		k := p.kinds[i]
		switch {
		case o.Quarantined != "":
			// The hub could not store it: it is in order_problems, re-read on
			// every sync, and a back-fill by id retries it after a fix.
			id := k.id
			p.problems = append(p.problems, Quarantined{Key: strconv.FormatInt(id, 10), OrderID: &id, Reason: clipReason(o.Quarantined)})
		case o.Inserted:
			c.New++
			if k.unpaid {
				c.Parked++
			}
		case o.Changed:
			c.Updated++
			switch {
			case k.action == channel.ActionCancel && k.wasOpen:
				c.Cancelled++
			case k.action == channel.ActionShip && k.wasOpen:
				c.ShippedOnChannel++
			case k.wasParked && !k.unpaid:
				c.Unparked++
			}
		default:
			c.Unchanged++
		}
	}
	for _, s := range p.skips {
		addSkip(c, s)
	}
	c.Quarantined += len(p.problems)
	if len(c.Problems) < maxListed {
		c.Problems = append(c.Problems, p.problems[:min(len(p.problems), maxListed-len(c.Problems))]...)
	}
	return nil
}

// itemsReason says why EKM's answer for an order's items could not be used,
// without the request (the quarantine names the order).
func itemsReason(err error) string {
	if e := ekm.AsError(err); e != nil {
		if e.Err != nil {
			return e.Kind.String() + ": " + e.Err.Error()
		}
		return e.Kind.String()
	}
	return reason(err)
}

// maxReason bounds a quarantine reason: it may quote what EKM sent (a status of
// any length), and reasons travel in Temporal results and the hub.
const maxReason = 500

// clipReason cuts a reason to maxReason bytes, on a rune boundary, marking the
// cut, and makes it storable: it lands in text and jsonb columns (order_problems,
// the sync's last result), where a NUL from EKM would fail the write.
func clipReason(s string) string {
	s = store.Storable(s)
	if len(s) <= maxReason {
		return s
	}
	return strings.ToValidUTF8(s[:maxReason], "") + "…"
}
