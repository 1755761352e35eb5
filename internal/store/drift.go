package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// What the drift comparison (internal/drift) reads of the hub's orders, and how its
// heal hands drifted listings back to the push (docs/channel-semantics.md §9).

// HubOrderState is what the drift comparison needs of a hub order.
type HubOrderState struct {
	EKMOrderID int64  `json:"ekm_order_id"`
	Status     string `json:"status"` // open, shipped or cancelled
	// ShippedOnChannel: fulfilled outside the hub, no despatch is sent.
	ShippedOnChannel bool `json:"shipped_on_channel"`
	// DespatchSent: the push recorded the despatch as sent to EKM (or found
	// EKM already showing it dispatched).
	DespatchSent bool `json:"despatch_sent"`
}

// HubOrdersByEKMID returns the channel's hub orders among the EKM order ids, by id.
func (s *Store) HubOrdersByEKMID(ctx context.Context, channelID int64, ids []int64) (map[int64]HubOrderState, error) {
	out := map[int64]HubOrderState{}
	rows, err := s.Pool.Query(ctx, `SELECT o.ekm_order_id, o.status, o.shipped_on_channel,
			EXISTS (SELECT 1 FROM order_outbound ob WHERE ob.order_id = o.id AND ob.kind = 'despatch'
				AND ob.done_at IS NOT NULL AND ob.outcome = $3)
		FROM orders o WHERE o.channel_id = $1 AND o.ekm_order_id = ANY($2)`, channelID, ids, OutcomeSent)
	if err != nil {
		return nil, err
	}
	var h HubOrderState
	_, err = pgx.ForEachRow(rows, []any{&h.EKMOrderID, &h.Status, &h.ShippedOnChannel, &h.DespatchSent}, func() error {
		out[h.EKMOrderID] = h
		return nil
	})
	return out, err
}

// MarkListingsUnknown makes EKM's stock (stock) and price (price) of the channel's
// listings unknown in the push ledger, as a failed send does: the push then sends
// the hub's value again, through its normal path (rules, claim, rate budget,
// result per listing). A listing without a ledger row gets one holding what the
// listing download saw, so that only the named value becomes unknown. The push is
// woken in the same transaction. It returns how many values it marked.
func (s *Store) MarkListingsUnknown(ctx context.Context, channelID int64, stock, price []ListingKey, actor string) (int, error) {
	marked := 0
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		for _, set := range []struct {
			keys   []ListingKey
			column string
		}{{stock, "confirmed_qty"}, {price, "confirmed_price"}} {
			if len(set.keys) == 0 {
				continue
			}
			products, variants := make([]int64, len(set.keys)), make([]int64, len(set.keys))
			for i, k := range set.keys {
				products[i], variants[i] = k.ProductID, k.VariantID
			}
			if _, err := tx.Exec(ctx, `INSERT INTO listing_outbound (channel_id, product_id, variant_id, confirmed_qty, confirmed_price)
				SELECT li.channel_id, li.product_id, li.variant_id, li.ekm_stock, li.ekm_price
				FROM listings li JOIN unnest($2::bigint[], $3::bigint[]) AS k(product_id, variant_id)
					ON li.product_id = k.product_id AND li.variant_id = k.variant_id
				WHERE li.channel_id = $1
				ON CONFLICT DO NOTHING`, channelID, products, variants); err != nil {
				return err
			}
			// The column name is one of two constants above, never input.
			tag, err := tx.Exec(ctx, `UPDATE listing_outbound lo SET `+set.column+` = NULL, updated_at = now()
				FROM unnest($2::bigint[], $3::bigint[]) AS k(product_id, variant_id)
				WHERE lo.channel_id = $1 AND lo.product_id = k.product_id AND lo.variant_id = k.variant_id`,
				channelID, products, variants)
			if err != nil {
				return err
			}
			marked += int(tag.RowsAffected())
			if err := audit(ctx, tx, AuditEntry{ChannelID: channelID, Actor: actor, Action: "drift.heal.listings",
				Subject: set.column, NewValue: "unknown", Detail: map[string]any{"listings": set.keys}}); err != nil {
				return err
			}
		}
		if marked == 0 {
			return nil
		}
		_, err := tx.Exec(ctx, `SELECT pg_notify(current_schema() || '.ekmsync',
			json_build_object('table', 'listing_outbound', 'channel_id', $1::bigint)::text)`, channelID)
		if err != nil {
			return fmt.Errorf("wake the push: %w", err)
		}
		return nil
	})
	return marked, err
}
