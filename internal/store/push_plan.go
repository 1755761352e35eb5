package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jackc/pgx/v5"
)

// The push plan of a channel in shadow mode (docs/channel-semantics.md §4, shadow mode): each
// EKM write its push would send, as the latest pass computed it from the ledger.
// The ledger decides every send; the plan only shows it, so switching to live
// sends what the ledger holds then, through the normal push, once.

// Plan kinds: which push computed the write.
const (
	PlanDespatch     = "despatch"
	PlanCancellation = "cancellation"
	PlanStock        = "stock"
	PlanPrice        = "price"
)

// PlannedWrite is one EKM write the push would send.
type PlannedWrite struct {
	Kind string `json:"kind"`
	// Write is EKM's endpoint, as the simulator names its writes: order.tracking,
	// order.notes, order.status, product.stock, variant.stock, product.update,
	// variant.update.
	Write string `json:"write"`
	// Target is what is written, by EKM's ids: "order 12", "product 5 variant 7".
	Target string `json:"target"`
	// Subject is the order number or the listing's SKU.
	Subject      string         `json:"subject"`
	EKMOrderID   int64          `json:"ekm_order_id,omitempty"`
	EKMProductID int64          `json:"ekm_product_id,omitempty"`
	EKMVariantID int64          `json:"ekm_variant_id,omitempty"`
	Values       map[string]any `json:"values"`
	Reason       string         `json:"reason"`
	PlannedAt    time.Time      `json:"planned_at"`
}

// RecordPlan replaces the channel's planned writes of a kind with writes, in one
// transaction and one statement however many there are, and audits each write
// that is new or whose values changed ("ekm.<kind>.would-send"), so that the
// audit log tells when a write was first planned without one entry per pass.
func (s *Store) RecordPlan(ctx context.Context, channelID int64, channelName, kind string, writes []PlannedWrite) error {
	type row struct {
		Write     string         `json:"write"`
		Target    string         `json:"target"`
		Subject   string         `json:"subject"`
		OrderID   int64          `json:"ekm_order_id"`
		ProductID int64          `json:"ekm_product_id"`
		VariantID int64          `json:"ekm_variant_id"`
		Vals      map[string]any `json:"vals"`
		Reason    string         `json:"reason"`
	}
	// One row per write and target (the last wins): an upsert may not touch a row twice.
	byKey := map[[2]string]int{}
	rows := make([]row, 0, len(writes)) // never JSON null
	for _, w := range writes {
		r := row{Storable(w.Write), Storable(w.Target), Storable(w.Subject), w.EKMOrderID, w.EKMProductID, w.EKMVariantID, w.Values, Storable(w.Reason)}
		if i, ok := byKey[[2]string{r.Write, r.Target}]; ok {
			rows[i] = r
			continue
		}
		byKey[[2]string{r.Write, r.Target}] = len(rows)
		rows = append(rows, r)
	}
	batch, err := json.Marshal(rows)
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		changed, err := tx.Query(ctx, `INSERT INTO push_plan AS p (channel_id, kind, write, target, subject, ekm_order_id, ekm_product_id, ekm_variant_id, vals, reason)
			SELECT $1, $2, w.write, w.target, w.subject, NULLIF(w.ekm_order_id, 0), NULLIF(w.ekm_product_id, 0), NULLIF(w.ekm_variant_id, 0),
				COALESCE(w.vals, '{}'), w.reason
			FROM jsonb_to_recordset($3::jsonb) AS w(write text, target text, subject text, ekm_order_id bigint, ekm_product_id bigint,
				ekm_variant_id bigint, vals jsonb, reason text)
			ON CONFLICT (channel_id, kind, write, target) DO UPDATE SET subject = EXCLUDED.subject, vals = EXCLUDED.vals,
				reason = EXCLUDED.reason, planned_at = CASE WHEN p.vals = EXCLUDED.vals THEN p.planned_at ELSE now() END
			RETURNING write, target, subject, vals, reason, planned_at = now()`, channelID, kind, string(batch))
		if err != nil {
			return err
		}
		var audits []AuditEntry
		var w PlannedWrite
		var isNew bool
		_, err = pgx.ForEachRow(changed, []any{&w.Write, &w.Target, &w.Subject, &w.Values, &w.Reason, &isNew}, func() error {
			if isNew {
				audits = append(audits, AuditEntry{ChannelID: channelID, Channel: channelName, Actor: "ekmsync", Action: "ekm." + kind + ".would-send",
					Subject: w.Subject, Detail: map[string]any{"write": w.Write, "target": w.Target, "values": w.Values, "reason": w.Reason}})
			}
			w.Values = nil
			return nil
		})
		if err != nil {
			return err
		}
		for _, a := range audits {
			if err := audit(ctx, tx, a); err != nil {
				return err
			}
		}
		keepWrite, keepTarget := make([]string, len(rows)), make([]string, len(rows))
		for i, r := range rows {
			keepWrite[i], keepTarget[i] = r.Write, r.Target
		}
		_, err = tx.Exec(ctx, `DELETE FROM push_plan p WHERE p.channel_id = $1 AND p.kind = $2
			AND (p.write, p.target) NOT IN (SELECT * FROM unnest($3::text[], $4::text[]))`, channelID, kind, keepWrite, keepTarget)
		return err
	})
}

// ClearPlan deletes the channel's planned writes of a kind: a pass in live mode
// sends them through the ledger, so they are no longer only planned.
func (s *Store) ClearPlan(ctx context.Context, channelID int64, kind string) error {
	_, err := s.Pool.Exec(ctx, `DELETE FROM push_plan WHERE channel_id = $1 AND kind = $2`, channelID, kind)
	return err
}

// Plan returns the channel's planned writes, by kind, subject and write.
func (s *Store) Plan(ctx context.Context, channelID int64) ([]PlannedWrite, error) {
	rows, err := s.Pool.Query(ctx, `SELECT kind, write, target, subject, COALESCE(ekm_order_id, 0), COALESCE(ekm_product_id, 0),
			COALESCE(ekm_variant_id, 0), vals, reason, planned_at
		FROM push_plan WHERE channel_id = $1
		ORDER BY array_position(ARRAY['despatch', 'cancellation', 'stock', 'price'], kind), subject,
			array_position(ARRAY['order.tracking', 'order.notes', 'order.status'], write), target`, channelID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[PlannedWrite])
}
