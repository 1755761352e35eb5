// Package drift compares what an EKM shop shows with what the hub wants of it
// (docs/channel-semantics.md §9): each linked listing's stock and price against
// the push's own plan, the orders EKM holds over a window against the hub's
// (missed orders), and order states that disagree. Heal repairs through the
// normal paths only: the push ledger and the order back-fill, never a write to EKM.
package drift

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/ekm"
	"github.com/ekmsync/ekmsync/internal/store"
)

// DefaultWindow is how far back the order comparison looks by default.
const DefaultWindow = 7 * 24 * time.Hour

// MaxWindow bounds the order window: each 20 orders cost one request of the
// shop's rate budget.
const MaxWindow = 90 * 24 * time.Hour

// Row states.
const (
	// StateOK: EKM shows what the hub wants.
	StateOK = "ok"
	// StateDrifted: EKM differs and nothing in hand will correct it.
	StateDrifted = "drifted"
	// StatePending: EKM differs, but the push or the order sync has it in
	// hand (a value not yet sent or backing off, an order newer than the
	// Order Sync Date, a despatch not yet sent, or a value that changed while
	// the comparison ran).
	StatePending = "pending"
)

// Report is one comparison of a channel.
type Report struct {
	Channel  string        `json:"channel"`
	At       time.Time     `json:"at"`
	Since    time.Time     `json:"since"`
	Counts   Counts        `json:"counts"`
	Listings []ListingRow  `json:"listings"`
	Orders   []OrderRow    `json:"orders"`
	Notes    []string      `json:"notes,omitempty"`
	Healed   *HealResult   `json:"healed,omitempty"`
	Compared ComparedCount `json:"compared"`
}

// ComparedCount is how much was compared.
type ComparedCount struct {
	Stock      int `json:"stock"`
	Price      int `json:"price"`
	EKMOrders  int `json:"ekm_orders"`
	Unreadable int `json:"unreadable"` // EKM products or orders that could not be read
}

// Counts are the drifted rows by kind: the figures of the report and of the
// metrics.
type Counts struct {
	Stock        int `json:"stock"`
	Price        int `json:"price"`
	NotOnEKM     int `json:"not_on_ekm"`
	MissedOrders int `json:"missed_orders"`
	// ShippedOnEKM and CancelledOnEKM: shipped or cancelled on EKM, open in the hub.
	ShippedOnEKM   int `json:"shipped_on_ekm"`
	CancelledOnEKM int `json:"cancelled_on_ekm"`
	// ShippedInHub: the despatch was sent, EKM is not in a Shipped status.
	ShippedInHub int `json:"shipped_in_hub"`
	// Pending: differences the normal paths have in hand (not drift).
	Pending int `json:"pending"`
}

// Drifted is the number of drifted rows.
func (c Counts) Drifted() int {
	return c.Stock + c.Price + c.NotOnEKM + c.MissedOrders + c.ShippedOnEKM + c.CancelledOnEKM + c.ShippedInHub
}

// Listing row kinds.
const (
	KindStock    = "stock"
	KindPrice    = "price"
	KindNotOnEKM = "not_on_ekm"
)

// ListingRow is one listing value compared: what EKM shows, what the hub wants,
// and what the push ledger believes EKM shows.
type ListingRow struct {
	store.ListingKey
	SKU       string `json:"sku"`
	Kind      string `json:"kind"`
	State     string `json:"state"`
	EKM       string `json:"ekm"`
	Hub       string `json:"hub"`
	Confirmed string `json:"confirmed"` // "" when unknown
	Reason    string `json:"reason,omitempty"`
}

// Order row kinds.
const (
	KindMissed       = "missed"
	KindShippedOnEKM = "shipped_on_ekm"
	KindShippedInHub = "shipped_in_hub"
)

// OrderRow is one EKM order whose hub copy is missing or disagrees.
type OrderRow struct {
	EKMOrderID int64     `json:"ekm_order_id"`
	Number     string    `json:"order_number"`
	OrderDate  time.Time `json:"order_date"`
	Kind       string    `json:"kind"`
	State      string    `json:"state"`
	EKMStatus  string    `json:"ekm_status"`
	HubStatus  string    `json:"hub_status,omitempty"`
	Reason     string    `json:"reason"`
}

// Options bound a comparison.
type Options struct {
	// Since is the start of the order window.
	Since time.Time
	// Now is the comparison's time (zero: time.Now).
	Now time.Time
}

// Compare reads the channel's listings and the orders placed since opts.Since
// from EKM through c (at listing priority, so orders, despatches and the push go
// first) and compares them with the hub.
func Compare(ctx context.Context, st *store.Store, c *ekm.Client, s channel.Settings, opts Options) (Report, error) {
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	r := Report{Channel: s.Name, At: now.UTC(), Since: opts.Since.UTC(), Listings: []ListingRow{}, Orders: []OrderRow{}}
	ctx = ekm.WithPriority(ctx, ekm.PriorityListings)
	if err := compareListings(ctx, st, c, s, now, &r); err != nil {
		return r, fmt.Errorf("listings: %w", err)
	}
	if err := compareOrders(ctx, st, c, s, opts.Since, now, &r); err != nil {
		return r, fmt.Errorf("orders: %w", err)
	}
	return r, nil
}

// DriftedOnly keeps only the drifted rows.
func (r *Report) DriftedOnly() {
	r.Listings = slices.DeleteFunc(r.Listings, func(l ListingRow) bool { return l.State != StateDrifted })
	r.Orders = slices.DeleteFunc(r.Orders, func(o OrderRow) bool { return o.State != StateDrifted })
}

func (r *Report) count(state, kind string) {
	if state == StatePending {
		r.Counts.Pending++
		return
	}
	if state != StateDrifted {
		return
	}
	switch kind {
	case KindStock:
		r.Counts.Stock++
	case KindPrice:
		r.Counts.Price++
	case KindNotOnEKM:
		r.Counts.NotOnEKM++
	case KindMissed:
		r.Counts.MissedOrders++
	case KindShippedOnEKM:
		r.Counts.ShippedOnEKM++
	case KindCancelledOnEKM:
		r.Counts.CancelledOnEKM++
	case KindShippedInHub:
		r.Counts.ShippedInHub++
	}
}

// shopListings reads every listing of the shop, as the listing download does. The
// second map holds the products that could not be read (by id, when known): their
// listings are not compared, never taken as gone.
func shopListings(ctx context.Context, c *ekm.Client, r *Report) (map[store.ListingKey]store.Listing, map[int64]bool, error) {
	out, unreadable := map[store.ListingKey]store.Listing{}, map[int64]bool{}
	for raw, err := range ekm.Items(ctx, c.ProductPages(ekm.MaxPageSize)) {
		if err != nil {
			return nil, nil, err
		}
		addListings(out, unreadable, raw, r)
	}
	return out, unreadable, nil
}

// addListings adds the listings of one product's JSON.
func addListings(out map[store.ListingKey]store.Listing, unreadable map[int64]bool, raw json.RawMessage, r *Report) {
	ls, bad := store.ListingsOf([]json.RawMessage{raw})
	r.Compared.Unreadable += len(bad)
	for _, err := range bad {
		if pe, ok := err.(*store.ProductError); ok && pe.ProductID > 0 {
			unreadable[pe.ProductID] = true
		}
	}
	for _, l := range ls {
		out[store.ListingKey{ProductID: l.ProductID, VariantID: l.VariantID}] = l
	}
}

// maxVerify bounds the products a comparison asks EKM for one by one.
const maxVerify = 50

// verifyMissing asks EKM by id for the products of linked listings the pages did
// not show: paging by number can skip a product when others are added or removed
// meanwhile, and one skipped must not be reported gone. It returns the products
// EKM answered 404 for; past maxVerify, the rest are left unverified (absent from
// both maps).
func verifyMissing(ctx context.Context, c *ekm.Client, keys []store.ListingKey, shop map[store.ListingKey]store.Listing,
	unreadable map[int64]bool, r *Report) (map[int64]bool, error) {
	gone := map[int64]bool{}
	asked := map[int64]bool{}
	for _, k := range keys {
		if _, ok := shop[k]; ok || unreadable[k.ProductID] || asked[k.ProductID] || len(asked) >= maxVerify {
			continue
		}
		asked[k.ProductID] = true
		p, err := c.GetProduct(ctx, k.ProductID)
		if ekm.KindOf(err) == ekm.KindNotFound {
			gone[k.ProductID] = true
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("product %d: %w", k.ProductID, err)
		}
		raw, err := json.Marshal(p)
		if err != nil {
			return nil, err
		}
		addListings(shop, unreadable, raw, r)
		if !slices.ContainsFunc(keys, func(o store.ListingKey) bool { _, ok := shop[o]; return ok && o.ProductID == k.ProductID }) {
			gone[k.ProductID] = true // the product is there, but not this variant
		}
	}
	return gone, nil
}
