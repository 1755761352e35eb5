package order

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
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/contract"
	"github.com/ekmsync/ekmsync/internal/ekm"
	"github.com/ekmsync/ekmsync/internal/store"
)

// WatchFor is how long after its order date a skipped, unpaid order is re-read by
// id on every sync in case it becomes paid (webhooks and the last_updated pass
// catch later payments too). A week covers card retries and most bank transfers;
// older orders come in with 'orders backfill'.
const WatchFor = 7 * 24 * time.Hour

// itemFetches is how many orders' items are fetched at once: the rate budget is
// the bottleneck, and a few requests in flight hide the round trips.
const itemFetches = 4

// Page is one page of orders, decided and with its new orders' items, ready to commit.
type Page struct {
	// Page is what the hub writes.
	Page store.OrderPage
	// Kinds says, per Page.Orders, what the order was before, for the counts.
	Kinds []Kind
	// Skips are the orders the rules skip, with why.
	Skips []Skip
	// Problems are the orders quarantined, with why.
	Problems []contract.Quarantined
	// Requests counts the EKM requests the page took.
	Requests int
	// Updated is the newest EKM last_updated among the page's orders.
	Updated *time.Time
	// IDs are every order id the page read.
	IDs []int64
}

// Kind is what an order of a page was in the hub and what the rules do with it.
type Kind struct {
	ID        int64
	WasParked bool
	InHub     bool
	WasOpen   bool
	Action    channel.Action
	Unpaid    bool // stored unpaid
}

// Skip is an order the rules skip, with why.
type Skip struct {
	ID     int64
	Reason string
}

// Pass is the per-order decision pass over pages of raw EKM orders of one
// channel: decode, decide with the channel's rules, fetch the items of the new
// orders it stores, and build the hub's rows. It writes nothing; the
// activities commit its pages.
type Pass struct {
	Store    *store.Store
	Client   *ekm.Client
	Settings channel.Settings
	Now      time.Time
	// OnRequest is called after each EKM request of a page being prepared, to
	// heartbeat while a page's items are fetched.
	OnRequest func()
}

// Prepare decodes and decides a page of raw orders and fetches the items of the
// new ones it stores. Nothing is written.
func (r *Pass) Prepare(ctx context.Context, raws []json.RawMessage) (*Page, error) {
	p := &Page{Page: store.OrderPage{ChannelID: r.Settings.ID}}
	type good struct {
		order ekm.Order
		raw   json.RawMessage
	}
	var orders []good
	for _, raw := range raws {
		o, err := ekm.DecodeOrder(raw)
		if err == nil {
			if why := UnknownStatus(r.Settings, o.Status); why != "" {
				err = errors.New(why)
			}
		}
		if err != nil {
			p.Quarantine(raw, err)
			continue
		}
		p.IDs = append(p.IDs, o.ID)
		orders = append(orders, good{o, raw})
	}
	hub, err := r.Store.HubOrders(ctx, r.Settings.ID, p.IDs)
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
		if o.LastUpdated != nil && (p.Updated == nil || o.LastUpdated.After(*p.Updated)) {
			t := o.LastUpdated.Time
			p.Updated = &t
		}
		var h *store.OrderState
		if ho, ok := hub[o.ID]; ok {
			h = &ho
		}
		d := Decide(r.Settings, o, h, r.Now)
		decisions[i] = d
		p.Page.Resolved = append(p.Page.Resolved, o.ID)
		switch {
		case d.Action == channel.ActionSkip:
			p.Skips = append(p.Skips, Skip{o.ID, d.Reason})
			if MayBecomePaid(d) && r.Now.Sub(o.OrderDate.Time) < WatchFor {
				p.Page.Watch = append(p.Page.Watch, store.WatchEntry{EKMOrderID: o.ID, OrderDate: o.OrderDate.Time, Reason: d.Reason})
			} else {
				p.Page.Unwatch = append(p.Page.Unwatch, o.ID)
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
			items, err := r.Client.OrderItems(gctx, orders[f.index].order.ID)
			if r.OnRequest != nil {
				r.OnRequest()
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
	p.Requests += len(news)
	items := map[int]*fetch{}
	var skus []string
	for _, f := range news {
		items[f.index] = f
		for _, it := range f.items {
			skus = append(skus, it.ProductCode)
		}
	}
	rates, err := r.Store.StockTaxRates(ctx, r.Settings.ID, skus)
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
				p.Quarantine(g.raw, fmt.Errorf("order %d: its items could not be read from EKM: %s", g.order.ID, ItemsReason(f.err)))
				p.Page.Resolved = slices.DeleteFunc(p.Page.Resolved, func(id int64) bool { return id == g.order.ID })
				continue
			}
			lines = f.items
		}
		row, lineRows := Row(r.Settings, g.order, g.raw, d, lines, rates)
		action := store.OrderStore
		switch d.Action {
		case channel.ActionCancel:
			action = store.OrderCancel
		case channel.ActionShip:
			action = store.OrderShip
		}
		p.Page.Orders = append(p.Page.Orders, store.OrderWrite{Action: action, Order: row, Lines: lineRows})
		p.Page.Unwatch = append(p.Page.Unwatch, g.order.ID)
		h, inHub := hub[g.order.ID]
		p.Kinds = append(p.Kinds, Kind{ID: g.order.ID, WasParked: inHub && h.Parked, InHub: inHub,
			WasOpen: inHub && h.Status == "open", Action: d.Action,
			Unpaid: !d.Paid && !(inHub && h.Paid)})
	}
	return p, nil
}

// Quarantine records a raw order that cannot be used, with the reason.
func (p *Page) Quarantine(raw json.RawMessage, err error) {
	reason := err.Error()
	if e := ekm.AsError(err); e != nil && e.Err != nil {
		reason = e.Err.Error()
	}
	reason = ClipReason(reason)
	pr := store.OrderProblem{Reason: reason, Raw: string(raw)}
	if k, ok := KeyOf(raw); ok {
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
	p.Page.Problems = append(p.Page.Problems, pr)
	p.Problems = append(p.Problems, contract.Quarantined{Key: pr.Key, OrderID: pr.EKMOrderID, Reason: reason})
}

// ItemsReason says why EKM's answer for an order's items could not be used,
// without the request (the quarantine names the order).
func ItemsReason(err error) string {
	if e := ekm.AsError(err); e != nil {
		if e.Err != nil {
			return e.Kind.String() + ": " + e.Err.Error()
		}
		return e.Kind.String()
	}
	return firstLine(err)
}

// maxReason bounds a quarantine reason: it may quote what EKM sent (a status of
// any length), and reasons travel in Temporal results and the hub.
const maxReason = 500

// ClipReason cuts a reason to maxReason bytes, on a rune boundary, marking the
// cut, and makes it storable: it lands in text and jsonb columns (order_problems,
// the sync's last result), where a NUL from EKM would fail the write.
func ClipReason(s string) string {
	s = store.Storable(s)
	if len(s) <= maxReason {
		return s
	}
	return strings.ToValidUTF8(s[:maxReason], "") + "…"
}

// firstLine is an error's first line: what a quarantine reason quotes.
func firstLine(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "\n"); i >= 0 {
		msg = msg[:i]
	}
	return msg
}
