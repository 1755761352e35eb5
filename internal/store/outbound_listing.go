package store

import (
	"context"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ekmsync/ekmsync/internal/channel"
)

// The outbound ledger of listings (listing_outbound): what EKM last confirmed of
// each listing's stock and price, and the result of the last send. The push sends
// a listing's value only when the one the hub wants differs from the confirmed one
// (docs/channel-semantics.md §3, §4).

// ListingKey names a listing of a channel: a product (VariantID 0) or a variant.
type ListingKey struct {
	ProductID int64 `json:"product_id"`
	VariantID int64 `json:"variant_id"`
}

// SendState is the result of the last sends of one value (stock or price) of a
// listing.
type SendState struct {
	Error       string     `json:"error,omitempty"`
	Attempts    int        `json:"attempts"`
	AttemptedAt *time.Time `json:"attempted_at,omitempty"`
	SentAt      *time.Time `json:"sent_at,omitempty"`
	RetryAfter  *time.Time `json:"retry_after,omitempty"`
}

// StockLine is one linked listing's stock: the hub's figures, the quantity the
// rules give, and what EKM last confirmed.
type StockLine struct {
	ListingKey
	// SKU is the stock item's: the listing's own, or the one its link names.
	SKU string `json:"sku"`
	// ListingSKU is the listing's own SKU when a link gives it the stock item
	// ("" when the listing takes from the item of its own SKU).
	ListingSKU string            `json:"listing_sku,omitempty"`
	Level      int64             `json:"level"`
	Reserved   int64             `json:"reserved"`
	Overrides  channel.Overrides `json:"overrides"`
	Desired    int64             `json:"desired"`
	// Confirmed is the quantity EKM last confirmed (by a push, or as the listing
	// download saw it); nil when unknown, as after a send whose answer was lost.
	Confirmed *int64 `json:"confirmed"`
	// Target is the quantity of the last attempt.
	Target *int64 `json:"target,omitempty"`
	// Changed is when the hub changed what the listing is to show, as
	// StockChanges finds it; StockPlan leaves it nil.
	Changed *time.Time `json:"changed,omitempty"`
	SendState
}

// Pending reports whether the listing's stock is to be sent at now: the quantity
// differs from the confirmed one, and it is not a value EKM rejected whose backoff
// runs.
func (l StockLine) Pending(now time.Time) bool {
	return pending(l.Desired, l.Confirmed, l.Target, l.SendState, now)
}

// pending reports whether a listing's value is to be sent at now: it differs
// from the confirmed one, and it is not the value EKM rejected last while that
// rejection's backoff runs.
func pending[T comparable](desired T, confirmed, target *T, st SendState, now time.Time) bool {
	if confirmed != nil && *confirmed == desired {
		return false
	}
	backingOff := target != nil && *target == desired && st.Error != "" && st.RetryAfter != nil && st.RetryAfter.After(now)
	return !backingOff
}

// StockPlan returns every live linked listing of the channel (not removed, and
// linked to a stock item by a listing link, or else by an SKU that is neither empty
// nor duplicated and is a stock item's), with its quantity by the channel's rules
// and the listing's overrides:
// the level is summed over the channel's stock locations (all when none are set),
// and the reservation is what open orders of every channel hold of the SKU.
func (s *Store) StockPlan(ctx context.Context, st channel.Settings) ([]StockLine, error) {
	return s.stockLines(ctx, st, "")
}

// PendingStock returns the lines of StockPlan whose quantity differs from the one
// EKM last confirmed (or that EKM never confirmed): the push's work. PostgreSQL
// computes the quantity and leaves out the rest, so that a pass of a large shop
// reads its few changes, not its whole catalogue. The caller still checks Pending
// (a rejected value's backoff).
func (s *Store) PendingStock(ctx context.Context, st channel.Settings) ([]StockLine, error) {
	return s.stockLines(ctx, st, pendingSQL)
}

// UrgentStock returns the lines of PendingStock that are Urgent: EKM's figure is
// to come down to a SKU at or below NearZero available.
func (s *Store) UrgentStock(ctx context.Context, st channel.Settings) ([]StockLine, error) {
	return s.stockLines(ctx, st, pendingSQL+` AND (q.confirmed IS NULL OR q.confirmed > q.desired)
		AND GREATEST(q.level - q.reserved, 0) <= `+strconv.Itoa(NearZero))
}

// pendingSQL keeps the lines of a plan whose value differs from the confirmed one.
const pendingSQL = `WHERE q.confirmed IS DISTINCT FROM q.desired`

// stockLines is StockPlan's lines that filter (a WHERE clause on q, or "") keeps.
func (s *Store) stockLines(ctx context.Context, st channel.Settings, filter string) ([]StockLine, error) {
	r := st.StockRules()
	return planQuery(ctx, s, `WITH linked AS (`+linkedListingsSQL+`),
		levels AS (
			SELECT sl.sku, sum(sl.level)::bigint AS level FROM stock_levels sl
			WHERE sl.sku IN (SELECT sku FROM linked) AND ($2::text[] IS NULL OR sl.location = ANY ($2))
			GROUP BY sl.sku),
		reserved AS (`+reservedSQL(`IN (SELECT sku FROM linked)`)+`),
		figures AS (
			SELECT k.product_id, k.variant_id, k.sku, k.listing_sku, COALESCE(lv.level, 0) AS level, COALESCE(r.qty, 0) AS reserved,
				k.max_listed_override, k.stock_percentage_override, k.end_when_override,
				CASE WHEN lo.channel_id IS NULL THEN k.ekm_stock ELSE lo.confirmed_qty END AS confirmed, lo.stock_target,
				COALESCE(lo.stock_error, '') AS stock_error, COALESCE(lo.stock_attempts, 0) AS stock_attempts,
				lo.stock_attempted_at, lo.stock_sent_at, lo.stock_retry_after
			FROM linked k
				LEFT JOIN levels lv ON lv.sku = k.sku
				LEFT JOIN reserved r ON r.sku = k.sku
				LEFT JOIN listing_outbound lo ON lo.channel_id = $1 AND lo.product_id = k.product_id AND lo.variant_id = k.variant_id),
		q AS (`+quantitySQL+`)
		SELECT q.product_id, q.variant_id, q.sku, q.listing_sku, q.level, q.reserved,
			q.max_listed_override, q.stock_percentage_override, q.end_when_override, q.desired,
			q.confirmed, q.stock_target, q.stock_error, q.stock_attempts, q.stock_attempted_at, q.stock_sent_at, q.stock_retry_after
		FROM q `+filter+`
		ORDER BY q.product_id, q.variant_id`, []any{st.ID, st.StockLocations, r.MaxListed, r.StockPercentage, r.EndWhen},
		func(row pgx.CollectableRow) (StockLine, error) {
			var l StockLine
			o := &l.Overrides
			err := row.Scan(&l.ProductID, &l.VariantID, &l.SKU, &l.ListingSKU, &l.Level, &l.Reserved, &o.MaxListed, &o.StockPercentage, &o.EndWhen,
				&l.Desired, &l.Confirmed, &l.Target, &l.Error, &l.Attempts, &l.AttemptedAt, &l.SentAt, &l.RetryAfter)
			return l, err
		})
}

// quantitySQL is channel.StockRules.Quantity in SQL: it selects each row of
// figures (with level, reserved and the listing's overrides) with its quantity,
// desired, by the channel's rules as $3 (Max Listed), $4 (Stock Percentage) and
// $5 (End When). TestQuantitySQLMatchesRules holds it to Quantity's answers.
const quantitySQL = `SELECT f.*, CASE WHEN x.end_when > 0 AND x.available <= x.end_when THEN 0::bigint
			WHEN x.max_listed > 0 THEN LEAST(x.available * x.pct / 100, x.max_listed::bigint)
			ELSE x.available * x.pct / 100 END AS desired
		FROM figures f CROSS JOIN LATERAL (SELECT GREATEST(f.level - f.reserved, 0)::bigint AS available,
			COALESCE(f.max_listed_override, $3::int) AS max_listed,
			LEAST(GREATEST(COALESCE(f.stock_percentage_override, $4::int), 0), 100)::bigint AS pct,
			COALESCE(f.end_when_override, $5::int) AS end_when) x`

// planQuery runs a plan's query with nested loops off: a plan joins the whole
// catalogue with a few small tables, and right after a listing download the
// statistics still say the catalogue is empty, when PostgreSQL's nested loops
// once took seconds a pass (the peak-day benchmark) where hash joins take
// milliseconds.
func planQuery[T any](ctx context.Context, s *Store, sql string, args []any, scan pgx.RowToFunc[T]) ([]T, error) {
	var out []T
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL enable_nestloop = off`); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, sql, args...)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, scan)
		return err
	})
	return out, err
}

// PriceLine is one linked listing's price: the hub's, and what EKM last confirmed.
type PriceLine struct {
	ListingKey
	SKU        string  `json:"sku"`                   // the stock item's, as StockLine's
	ListingSKU string  `json:"listing_sku,omitempty"` // as StockLine's
	Desired    Pennies `json:"desired"`
	// Confirmed is the price EKM last confirmed (by a push, or as the listing
	// download saw it); nil when unknown.
	Confirmed *Pennies `json:"confirmed"`
	Target    *Pennies `json:"target,omitempty"`
	SendState
}

// Pending reports whether the listing's price is to be sent at now.
func (l PriceLine) Pending(now time.Time) bool {
	return pending(l.Desired, l.Confirmed, l.Target, l.SendState, now)
}

// PricePlan returns every live linked listing of the channel (as StockPlan's)
// whose stock item has a hub price, with what EKM last confirmed.
func (s *Store) PricePlan(ctx context.Context, channelID int64) ([]PriceLine, error) {
	return s.priceLines(ctx, channelID, "")
}

// PendingPrices returns the lines of PricePlan whose price differs from the one
// EKM last confirmed, as PendingStock does for stock.
func (s *Store) PendingPrices(ctx context.Context, channelID int64) ([]PriceLine, error) {
	return s.priceLines(ctx, channelID, pendingSQL)
}

// priceLines is PricePlan's lines that filter (as stockLines') keeps.
func (s *Store) priceLines(ctx context.Context, channelID int64, filter string) ([]PriceLine, error) {
	return planQuery(ctx, s, `WITH q AS (SELECT li.product_id, li.variant_id, li.sku, li.listing_sku, round(p.price * 100)::bigint AS desired,
			round(CASE WHEN lo.channel_id IS NULL THEN li.ekm_price ELSE lo.confirmed_price END * 100)::bigint AS confirmed,
			round(lo.price_target * 100)::bigint AS price_target,
			COALESCE(lo.price_error, '') AS price_error, COALESCE(lo.price_attempts, 0) AS price_attempts,
			lo.price_attempted_at, lo.price_sent_at, lo.price_retry_after
		FROM (`+linkedListingsSQL+`) li JOIN prices p ON p.sku = li.sku
			LEFT JOIN listing_outbound lo ON lo.channel_id = $1 AND lo.product_id = li.product_id AND lo.variant_id = li.variant_id)
		SELECT * FROM q `+filter+`
		ORDER BY q.product_id, q.variant_id`, []any{channelID}, func(row pgx.CollectableRow) (PriceLine, error) {
		var l PriceLine
		err := row.Scan(&l.ProductID, &l.VariantID, &l.SKU, &l.ListingSKU, &l.Desired, &l.Confirmed, &l.Target,
			&l.Error, &l.Attempts, &l.AttemptedAt, &l.SentAt, &l.RetryAfter)
		return l, err
	})
}

// linkedListingsSQL selects the live linked listings of channel $1 with their
// stock item's SKU (sku), their own SKU when a listing link gives that item
// (listing_sku, else ”), and the columns the plans read. A link wins over the
// listing's own SKU, which links only when it is neither empty nor duplicated.
const linkedListingsSQL = `SELECT li.product_id, li.variant_id, si.sku,
		CASE WHEN k.stock_sku IS NULL THEN '' ELSE li.sku END AS listing_sku,
		li.max_listed_override, li.stock_percentage_override, li.end_when_override, li.ekm_stock, li.ekm_price
	FROM listings li
		LEFT JOIN listing_links k ON k.channel_id = li.channel_id AND k.product_id = li.product_id AND k.variant_id = li.variant_id
		JOIN stock_items si ON si.sku = COALESCE(k.stock_sku, li.sku)
	WHERE li.channel_id = $1 AND li.removed_at IS NULL
		AND (k.stock_sku IS NOT NULL OR (li.sku_problem IS NULL AND li.sku <> ''))`

// ListingSend is the result of one send of a listing's stock or price.
type ListingSend struct {
	ChannelID int64
	ListingKey
	// Sent is the value sent: a quantity, or a price in pennies.
	Sent int64
	// Confirmed is EKM's answer, when it accepted the value.
	Confirmed *int64
	// Stock is the quantity EKM showed in a price write's answer: the write
	// carries the whole product, stock included, so the stock ledger takes it.
	Stock *int64
	// Error is why the send failed, when it did; RetryAfter keeps a value EKM
	// rejected from being sent again before then.
	Error      string
	RetryAfter *time.Time
	At         time.Time
}

// RecordStockSend records a stock send of a listing and its audit entry together.
// Attempts count the sends of one value since the last success.
func (s *Store) RecordStockSend(ctx context.Context, r ListingSend, entry AuditEntry) error {
	return s.recordListingSend(ctx, r, entry, `UPDATE listing_outbound SET
			stock_attempts = CASE WHEN stock_error IS NULL OR stock_target IS DISTINCT FROM $4 THEN 1 ELSE stock_attempts + 1 END,
			stock_target = $4, stock_attempted_at = $5, stock_error = $6, stock_retry_after = $7, confirmed_qty = $8,
			stock_sent_at = CASE WHEN $6::text IS NULL THEN $5 ELSE stock_sent_at END, updated_at = now()
		WHERE channel_id = $1 AND product_id = $2 AND variant_id = $3`)
}

// RecordPriceSend records a price send of a listing and its audit entry together.
// The stock EKM showed in the write's answer (r.Stock), if any, is confirmed too.
func (s *Store) RecordPriceSend(ctx context.Context, r ListingSend, entry AuditEntry) error {
	return s.recordListingSend(ctx, r, entry, `UPDATE listing_outbound SET
			price_attempts = CASE WHEN price_error IS NULL OR price_target IS DISTINCT FROM $4::bigint / 100.0
				THEN 1 ELSE price_attempts + 1 END,
			price_target = $4::bigint / 100.0, price_attempted_at = $5, price_error = $6, price_retry_after = $7,
			confirmed_price = $8::bigint / 100.0, price_sent_at = CASE WHEN $6::text IS NULL THEN $5 ELSE price_sent_at END,
			confirmed_qty = COALESCE($9::bigint, confirmed_qty),
			stock_attempted_at = CASE WHEN $9::bigint IS NULL THEN stock_attempted_at ELSE $5 END, updated_at = now()
		WHERE channel_id = $1 AND product_id = $2 AND variant_id = $3`, r.Stock)
}

// recordListingSend upserts the listing's ledger row for one send with update,
// whose parameters are: $1-$3 the listing, $4 the value sent, $5 the time, $6 the
// error (NULL after a success), $7 the retry time, $8 EKM's answer, then extra.
// A failed send makes the confirmed value unknown ($8 NULL): EKM may have applied
// a write whose answer was lost, so the value is sent again even if the hub's goes
// back to the old one.
func (s *Store) recordListingSend(ctx context.Context, r ListingSend, entry AuditEntry, update string, extra ...any) error {
	var errMsg *string
	confirmed := r.Confirmed
	if r.Error != "" {
		m := truncate(r.Error, 2000)
		errMsg, confirmed = &m, nil
	}
	args := append([]any{r.ChannelID, r.ProductID, r.VariantID, r.Sent, r.At, errMsg, r.RetryAfter, confirmed}, extra...)
	return pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO listing_outbound (channel_id, product_id, variant_id) VALUES ($1, $2, $3)
			ON CONFLICT DO NOTHING`, r.ChannelID, r.ProductID, r.VariantID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, update, args...); err != nil {
			return err
		}
		return audit(ctx, tx, entry)
	})
}
