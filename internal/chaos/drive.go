package chaos

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ekmsync/ekmsync/internal/ekmsim"
	"github.com/ekmsync/ekmsync/internal/store"
)

// The drivers: what shoppers do on the shop and the business does in the hub,
// spread over the window.

// pool returns n distinct SKUs of the managed ones, drawn with rng.
func (r *runner) pool(rng *rand.Rand, n int) []string {
	skus := append([]string(nil), r.catalog.unique...)
	rng.Shuffle(len(skus), func(i, j int) { skus[i], skus[j] = skus[j], skus[i] })
	return skus[:min(n, len(skus))]
}

// arriveOrders makes the orders arrive on the shop, paid and processing, with one
// to three lines, half of them of SKUs whose stock the hub manages.
func (r *runner) arriveOrders(ctx context.Context) error {
	rng, poisonRng := r.rng(1), r.rng(9)
	stock := r.stockSKUs
	for i := range r.cfg.Orders {
		if err := r.at(ctx, r.spread(i, r.cfg.Orders)); err != nil {
			return fmt.Errorf("%d of %d orders arrived: %w", i, r.cfg.Orders, err)
		}
		lines := make([]ekmsim.LineSpec, 1+rng.IntN(3))
		for j := range lines {
			sku := r.catalog.unique[rng.IntN(len(r.catalog.unique))]
			if len(stock) > 0 && rng.IntN(2) == 0 {
				sku = stock[rng.IntN(len(stock))]
			}
			lines[j] = ekmsim.LineSpec{ProductCode: sku, Quantity: int64(1 + rng.IntN(3))}
		}
		poison, isPoison, storable := r.poisonLine(poisonRng, lines[0].ProductCode)
		if isPoison {
			lines[0] = poison
		}
		o := r.env.Sim.CreateOrder(ekmsim.OrderSpec{Status: "PROCESSING", PaymentStatus: "SUCCESS", Lines: lines})
		r.mu.Lock()
		if isPoison && !storable {
			r.poison = append(r.poison, o.ID) // the hub quarantines it: not an order that arrived
		} else {
			r.orders = append(r.orders, o.ID)
		}
		r.mu.Unlock()
	}
	return nil
}

// shipOrders ships open hub orders as they are downloaded, every fourth with two
// parcels (the second parcel's tracking goes to EKM's notes).
func (r *runner) shipOrders(ctx context.Context) error {
	rng := r.rng(2)
	for i := range r.cfg.Despatches {
		if err := r.at(ctx, r.spread(i, r.cfg.Despatches)); err != nil {
			return fmt.Errorf("%d of %d despatches made: %w", i, r.cfg.Despatches, err)
		}
		var id, ekmID int64
		for id == 0 {
			err := r.retry(ctx, "pick an open order", func(ctx context.Context) error {
				err := r.env.DB.Pool.QueryRow(ctx, `SELECT o.id, o.ekm_order_id FROM orders o JOIN channels c ON c.id = o.channel_id
					WHERE c.name = $1 AND o.status = 'open' ORDER BY random() LIMIT 1`, r.env.Channel).Scan(&id, &ekmID)
				if errors.Is(err, pgx.ErrNoRows) {
					return nil
				}
				return err
			})
			if err != nil {
				return err
			}
			if id == 0 { // no order downloaded yet
				if err := sleep(ctx, 200*time.Millisecond); err != nil {
					return fmt.Errorf("%d of %d despatches made, no open order to ship: %w", i, r.cfg.Despatches, err)
				}
			}
		}
		parcels := []store.Parcel{{TrackingNumber: fmt.Sprintf("RM%08dGB", ekmID), Carrier: "Royal Mail"}}
		if i%4 == 3 {
			parcels = append(parcels, store.Parcel{TrackingNumber: fmt.Sprintf("DPD%08d", ekmID), Carrier: "DPD"})
		}
		if rng.IntN(10) == 0 {
			parcels[0].TrackingNumber = "" // shipped without tracking: only the status is sent
		}
		err := r.retry(ctx, "ship an order", func(ctx context.Context) error {
			_, err := r.env.DB.Store.ShipOrder(ctx, store.OrderRef{ID: id}, parcels, "chaos")
			return err
		})
		if err != nil {
			return err
		}
		r.mu.Lock()
		r.shipped[ekmID] = parcels
		r.mu.Unlock()
	}
	return nil
}

// changeStock sets stock levels of the pool's SKUs, a fifth of them at a second
// location, some negative (a count may be behind).
func (r *runner) changeStock(ctx context.Context) error {
	rng := r.rng(4)
	pool := r.stockSKUs
	for i := range r.cfg.StockChanges {
		if err := r.at(ctx, r.spread(i, r.cfg.StockChanges)); err != nil {
			return fmt.Errorf("%d of %d stock changes made: %w", i, r.cfg.StockChanges, err)
		}
		sku, level, location := pool[rng.IntN(len(pool))], rng.IntN(80)-5, store.DefaultLocation
		if rng.IntN(5) == 0 {
			location = "backroom"
		}
		err := r.retry(ctx, "set a stock level", func(ctx context.Context) error {
			_, err := r.env.DB.Store.SetStockLevel(ctx, sku, location, level, "chaos")
			return err
		})
		if err != nil {
			return err
		}
		r.stockChanges.Add(1)
		r.mu.Lock()
		r.stockSet[sku] = true
		r.mu.Unlock()
	}
	return nil
}

// changePrices sets prices of the pool's SKUs, from 1.00 to 99.99.
func (r *runner) changePrices(ctx context.Context) error {
	rng := r.rng(5)
	pool := r.pool(r.rng(6), r.cfg.PriceSKUs)
	for i := range r.cfg.PriceChanges {
		if err := r.at(ctx, r.spread(i, r.cfg.PriceChanges)); err != nil {
			return fmt.Errorf("%d of %d price changes made: %w", i, r.cfg.PriceChanges, err)
		}
		sku, price := pool[rng.IntN(len(pool))], store.Pennies(100+rng.IntN(9900))
		err := r.retry(ctx, "set a price", func(ctx context.Context) error {
			_, err := r.env.DB.Store.SetPrice(ctx, sku, price, "chaos")
			return err
		})
		if err != nil {
			return err
		}
		r.priceChanges.Add(1)
		r.mu.Lock()
		r.priceSet[sku] = true
		r.mu.Unlock()
	}
	return nil
}
