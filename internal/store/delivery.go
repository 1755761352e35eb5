package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ekmsync/ekmsync/internal/channel"
)

// writeDeliveryMap replaces the channel's delivery-method mapping and re-maps its
// open orders under it, in the settings' transaction: an order flagged for a
// method the operator has just mapped gets its service (and loses the flag), and
// one whose mapping was removed is flagged, never left with the old service. The
// rule is channel.Settings.DeliveryService's, in SQL.
func writeDeliveryMap(ctx context.Context, tx pgx.Tx, st channel.Settings) error {
	if _, err := tx.Exec(ctx, `DELETE FROM channel_delivery_map WHERE channel_id = $1`, st.ID); err != nil {
		return err
	}
	for method, service := range st.DeliveryMap {
		if _, err := tx.Exec(ctx, `INSERT INTO channel_delivery_map (channel_id, ekm_method, hub_service) VALUES ($1, $2, $3)`,
			st.ID, method, service); err != nil {
			return fmt.Errorf("save delivery mapping %s: %w", method, err)
		}
	}
	_, err := tx.Exec(ctx, `WITH m AS (
		SELECT o.id,
			(SELECT d.hub_service FROM channel_delivery_map d WHERE d.channel_id = o.channel_id
				AND lower(d.ekm_method) = lower(btrim(o.ekm_delivery_method)) LIMIT 1) AS service,
			EXISTS (SELECT 1 FROM channel_delivery_map d WHERE d.channel_id = o.channel_id) AS maps
		FROM orders o WHERE o.channel_id = $1 AND o.status = 'open')
		UPDATE orders o SET delivery_service = m.service, delivery_unmapped = m.maps AND m.service IS NULL, updated_at = now()
		FROM m WHERE o.id = m.id
			AND (o.delivery_service IS DISTINCT FROM m.service OR o.delivery_unmapped <> (m.maps AND m.service IS NULL))`, st.ID)
	if err != nil {
		return fmt.Errorf("re-map the open orders' delivery methods: %w", err)
	}
	return nil
}

// UnmappedDelivery is a hub order whose EKM delivery method maps to no hub service.
type UnmappedDelivery struct {
	EKMOrderID     int64     `json:"ekm_order_id"`
	OrderNumber    string    `json:"order_number"`
	OrderDate      time.Time `json:"order_date"`
	Status         string    `json:"status"`
	DeliveryMethod string    `json:"ekm_delivery_method"`
}

// UnmappedDeliveries lists the channel's orders flagged with an unmapped delivery
// method, newest first, at most limit.
func (s *Store) UnmappedDeliveries(ctx context.Context, channelID int64, limit int) ([]UnmappedDelivery, error) {
	rows, err := s.Pool.Query(ctx, `SELECT ekm_order_id, order_number, order_date, status, COALESCE(ekm_delivery_method, '')
		FROM orders WHERE channel_id = $1 AND delivery_unmapped ORDER BY order_date DESC, ekm_order_id DESC LIMIT $2`, channelID, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[UnmappedDelivery])
}

// nullString stores "" as NULL.
func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
