package activities

import (
	"context"
	"fmt"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/ekm"
	"github.com/ekmsync/ekmsync/internal/store"
)

// PushPrices sends the hub's price of each linked listing whose price differs from
// the one EKM last confirmed, while Price Change is on (Update Inventory need not
// be). Only the price changes: a product is read and written back whole with the
// new price (EKM requires name, and does not say whether it clears omitted
// fields), a variant likewise through the variant endpoint. A listing whose price
// EKM already shows is recorded without a write.
func (a *Activities) PushPrices(ctx context.Context, in PushInput) (StepResult, error) {
	defer keepAlive(ctx, nil)()
	return pushListings(ctx, a, in, listingPush[store.PriceLine]{
		kind: store.PlanPrice,
		on:   func(s channel.Settings) bool { return s.PriceChange },
		plan: func(ctx context.Context, s channel.Settings) ([]store.PriceLine, error) {
			return a.Store.PendingPrices(ctx, s.ID)
		},
		concurrency: 1, // each is a read and a write of the same product
		send:        a.sendPrice,
		shadow:      planPrice,
	})
}

// sendPrice sends one listing's price and records the result.
func (a *Activities) sendPrice(ctx context.Context, c *ekm.Client, s channel.Settings, l store.PriceLine) (listingOutcome, error) {
	detail := map[string]any{"product_id": l.ProductID, "variant_id": l.VariantID, "sent": l.Desired, "previous": l.Confirmed}
	send := store.ListingSend{ChannelID: s.ID, ListingKey: l.ListingKey, Sent: int64(l.Desired), At: a.now()}
	answer, already, err := writePrice(ctx, c, l)
	if err == nil {
		confirmed := int64(answer.price)
		send.Confirmed = &confirmed
		if !already {
			send.Stock = &answer.stock // the write carried the stock it read: the stock ledger takes EKM's answer
		}
		detail["answer"], detail["already"] = answer.price, already
		outcome := listingSent
		if already {
			outcome = listingAlready
		}
		return outcome, a.Store.RecordPriceSend(context.WithoutCancel(ctx), send, auditEntry(s, "ekm.price", l.SKU, detail))
	}
	return listingFailed, a.listingFailed(ctx, s, err, &send, l.Attempts, l.Error, detail, "ekm.price", l.SKU, a.Store.RecordPriceSend)
}

// priceAnswer is what EKM showed after a price write: the price, and the stock
// the write carried back.
type priceAnswer struct {
	price store.Pennies
	stock int64
}

// writePrice reads the listing's product or variant and writes it back with the
// hub's price, unless EKM already shows that price (already). It returns EKM's
// answer.
func writePrice(ctx context.Context, c *ekm.Client, l store.PriceLine) (answer priceAnswer, already bool, err error) {
	if l.VariantID == 0 {
		p, err := c.GetProduct(ctx, l.ProductID)
		if err != nil || store.PenniesOf(p.Price) == l.Desired {
			return priceAnswer{store.PenniesOf(p.Price), p.NumberInStock}, true, err
		}
		u := p.ToUpdate()
		u.Price = l.Desired.Float()
		p, err = c.UpdateProduct(ctx, l.ProductID, u)
		return priceAnswer{store.PenniesOf(p.Price), p.NumberInStock}, false, err
	}
	variants, err := c.Variants(ctx, l.ProductID)
	if err != nil {
		return priceAnswer{}, false, err
	}
	for _, v := range variants {
		if v.ID != l.VariantID {
			continue
		}
		if store.PenniesOf(v.Price) == l.Desired {
			return priceAnswer{l.Desired, v.NumberInStock}, true, nil
		}
		v.Price = l.Desired.Float()
		v, err = c.UpdateVariant(ctx, l.ProductID, v)
		return priceAnswer{store.PenniesOf(v.Price), v.NumberInStock}, false, err
	}
	return priceAnswer{}, false, &ekm.Error{Kind: ekm.KindNotFound, Method: "GET", Path: fmt.Sprintf("/api/v1/products/%d/variants", l.ProductID),
		Err: fmt.Errorf("product %d has no variant %d on EKM", l.ProductID, l.VariantID)}
}
