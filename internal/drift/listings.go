package drift

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/ekm"
	"github.com/ekmsync/ekmsync/internal/store"
)

// compareListings compares EKM's stock and price of each linked listing with the
// push's own plan (store.StockPlan, store.PricePlan: the same rules, overrides and
// ledger the push uses). The plan is read before and after EKM is read: a value
// whose plan line changed in between (a push sent it, the hub changed, a download
// confirmed it) is pending, not drift, so a comparison racing the push never
// reports a false drift. Stock is compared only with Update Inventory on, prices
// only with Price Change on: otherwise the hub wants nothing of EKM.
func compareListings(ctx context.Context, st *store.Store, c *ekm.Client, s channel.Settings, now time.Time, r *Report) error {
	if !s.UpdateInventory && !s.PriceChange {
		r.Notes = append(r.Notes, "Update Inventory and Price Change are off: listings not compared")
		return nil
	}
	stockBefore, priceBefore, err := plans(ctx, st, s)
	if err != nil {
		return err
	}
	shop, unreadable, err := shopListings(ctx, c, r)
	if err != nil {
		return err
	}
	stockAfter, priceAfter, err := plans(ctx, st, s)
	if err != nil {
		return err
	}
	var keys []store.ListingKey
	for _, l := range stockAfter {
		keys = append(keys, l.ListingKey)
	}
	for _, l := range priceAfter {
		keys = append(keys, l.ListingKey)
	}
	gone, err := verifyMissing(ctx, c, keys, shop, unreadable, r)
	if err != nil {
		return err
	}
	before := map[store.ListingKey]store.StockLine{}
	for _, l := range stockBefore {
		before[l.ListingKey] = l
	}
	notOnEKM := map[store.ListingKey]bool{}
	missing := func(k store.ListingKey, sku string) {
		if notOnEKM[k] {
			return
		}
		notOnEKM[k] = true
		row := ListingRow{ListingKey: k, SKU: sku, Kind: KindNotOnEKM, State: StateDrifted,
			Reason: "linked in the hub, but EKM no longer lists it: the next full listing download marks it removed"}
		switch {
		case unreadable[k.ProductID]:
			row.State, row.Reason = StatePending, "EKM's product could not be read ('listings problems' after the next download says why): not compared"
		case !gone[k.ProductID]:
			row.State, row.Reason = StatePending, "not on EKM's pages, and not asked for by id (too many): not compared"
		}
		r.add(row)
	}
	for _, l := range stockAfter {
		e, ok := shop[l.ListingKey]
		if !ok {
			missing(l.ListingKey, l.SKU)
			continue
		}
		r.Compared.Stock++
		b, seen := before[l.ListingKey]
		stable := seen && b.Desired == l.Desired && eq(b.Confirmed, l.Confirmed) && eqTime(b.AttemptedAt, l.AttemptedAt)
		row := ListingRow{ListingKey: l.ListingKey, SKU: l.SKU, Kind: KindStock, EKM: strconv.FormatInt(e.Stock, 10),
			Hub: strconv.FormatInt(l.Desired, 10), Confirmed: optInt(l.Confirmed)}
		row.State, row.Reason = judge(e.Stock == l.Desired, stable, l.Confirmed != nil && *l.Confirmed == l.Desired, l.Pending(now))
		r.add(row)
	}
	priceBeforeBy := map[store.ListingKey]store.PriceLine{}
	for _, l := range priceBefore {
		priceBeforeBy[l.ListingKey] = l
	}
	for _, l := range priceAfter {
		e, ok := shop[l.ListingKey]
		if !ok {
			missing(l.ListingKey, l.SKU)
			continue
		}
		r.Compared.Price++
		b, seen := priceBeforeBy[l.ListingKey]
		stable := seen && b.Desired == l.Desired && eq(b.Confirmed, l.Confirmed) && eqTime(b.AttemptedAt, l.AttemptedAt)
		ekmPrice := store.PenniesOf(e.Price)
		row := ListingRow{ListingKey: l.ListingKey, SKU: l.SKU, Kind: KindPrice, EKM: ekmPrice.String(), Hub: l.Desired.String()}
		if l.Confirmed != nil {
			row.Confirmed = l.Confirmed.String()
		}
		row.State, row.Reason = judge(ekmPrice == l.Desired, stable, l.Confirmed != nil && *l.Confirmed == l.Desired, l.Pending(now))
		r.add(row)
	}
	return nil
}

// judge decides a listing value's state: equal is ok; a difference the push
// believes settled (the ledger confirms the hub's value) is drift; any other is
// in the push's hands.
func judge(equal, stable, ledgerSettled, pending bool) (string, string) {
	switch {
	case equal:
		return StateOK, ""
	case !stable:
		return StatePending, "changed while the comparison ran (a push, a download or a hub change): compare again"
	case ledgerSettled:
		return StateDrifted, "EKM differs from the value the push ledger says EKM confirmed: changed on EKM behind the hub"
	case pending:
		return StatePending, "the push has not sent the hub's value yet"
	default:
		return StatePending, "EKM rejected the hub's value; the push tries again after its backoff"
	}
}

// plans reads the push's stock and price plans, each only when its setting is on.
func plans(ctx context.Context, st *store.Store, s channel.Settings) ([]store.StockLine, []store.PriceLine, error) {
	var stock []store.StockLine
	var price []store.PriceLine
	var err error
	if s.UpdateInventory {
		if stock, err = st.StockPlan(ctx, s); err != nil {
			return nil, nil, fmt.Errorf("stock plan: %w", err)
		}
	}
	if s.PriceChange {
		if price, err = st.PricePlan(ctx, s.ID); err != nil {
			return nil, nil, fmt.Errorf("price plan: %w", err)
		}
	}
	return stock, price, nil
}

func (r *Report) add(row ListingRow) {
	r.Listings = append(r.Listings, row)
	r.count(row.State, row.Kind)
}

func eq[T comparable](a, b *T) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
}

func eqTime(a, b *time.Time) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && a.Equal(*b))
}

func optInt(p *int64) string {
	if p == nil {
		return ""
	}
	return strconv.FormatInt(*p, 10)
}
