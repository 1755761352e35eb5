package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
)

// WebhookReceiver is what the webhook receiver checks a request against: the
// channel's token hash (nil: no token yet, so every request is refused) and its
// shop's username.
type WebhookReceiver struct {
	ChannelID    int64
	Name         string
	ShopUsername string
	TokenHash    []byte
}

// WebhookReceivers lists every channel that is not removed with its token hash,
// in one query: the receiver keeps them in memory so that a flood of forged
// webhooks does not reach PostgreSQL.
func (s *Store) WebhookReceivers(ctx context.Context) ([]WebhookReceiver, error) {
	rows, err := s.Pool.Query(ctx, `SELECT c.id, c.name, COALESCE(c.shop_username, ''), w.token_hash
		FROM channels c LEFT JOIN webhook_tokens w ON w.channel_id = c.id WHERE c.removed_at IS NULL`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (WebhookReceiver, error) {
		var r WebhookReceiver
		err := row.Scan(&r.ChannelID, &r.Name, &r.ShopUsername, &r.TokenHash)
		return r, err
	})
}

// WebhookState is a channel's webhook token and subscription, for 'channel show'.
type WebhookState struct {
	// HasToken says whether the channel has a token: without one every webhook is refused.
	HasToken bool `json:"has_token"`
	// URL is the URL the channel subscribed with, its token redacted; "" when not subscribed.
	URL          string     `json:"url,omitempty"`
	SubscribedAt *time.Time `json:"subscribed_at,omitempty"`
}

// WebhookState reads a channel's webhook token state.
func (s *Store) WebhookState(ctx context.Context, channelID int64) (WebhookState, error) {
	var w WebhookState
	err := s.Pool.QueryRow(ctx, `SELECT true, COALESCE(endpoint, ''), subscribed_at FROM webhook_tokens WHERE channel_id = $1`,
		channelID).Scan(&w.HasToken, &w.URL, &w.SubscribedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return WebhookState{}, nil
	}
	return w, err
}

// SetWebhookToken stores a channel's token hash and the URL it subscribed with
// (token redacted; "" when not subscribed), replacing any earlier token.
func (s *Store) SetWebhookToken(ctx context.Context, channelID int64, hash []byte, redactedURL string) error {
	_, err := s.Pool.Exec(ctx, `INSERT INTO webhook_tokens (channel_id, token_hash, endpoint, subscribed_at)
		VALUES ($1, $2, NULLIF($3, ''), CASE WHEN $3 <> '' THEN now() END)
		ON CONFLICT (channel_id) DO UPDATE SET token_hash = EXCLUDED.token_hash, endpoint = EXCLUDED.endpoint,
			created_at = now(), subscribed_at = EXCLUDED.subscribed_at`, channelID, hash, redactedURL)
	return err
}

// ClaimWebhookToken stores hash as the token of a channel that has none yet, and
// reports whether this call stored it: of several workers starting at once, one
// re-subscribes the channel.
func (s *Store) ClaimWebhookToken(ctx context.Context, channelID int64, hash []byte) (bool, error) {
	tag, err := s.Pool.Exec(ctx, `INSERT INTO webhook_tokens (channel_id, token_hash) VALUES ($1, $2)
		ON CONFLICT (channel_id) DO NOTHING`, channelID, hash)
	return tag.RowsAffected() == 1, err
}

// SetWebhookEndpoint records the (redacted) URL a channel subscribed with, if
// its token is still hash.
func (s *Store) SetWebhookEndpoint(ctx context.Context, channelID int64, hash []byte, redactedURL string) error {
	_, err := s.Pool.Exec(ctx, `UPDATE webhook_tokens SET endpoint = NULLIF($3, ''), subscribed_at = CASE WHEN $3 <> '' THEN now() END
		WHERE channel_id = $1 AND token_hash = $2`, channelID, hash, redactedURL)
	return err
}

// DropWebhookToken removes a channel's token if it is still hash (a
// re-subscription that failed), so that the next start tries again.
func (s *Store) DropWebhookToken(ctx context.Context, channelID int64, hash []byte) error {
	_, err := s.Pool.Exec(ctx, `DELETE FROM webhook_tokens WHERE channel_id = $1 AND token_hash = $2`, channelID, hash)
	return err
}

// HintLimits bound the order hints the webhook receiver hands to a channel's
// order-sync loop, across every worker process.
type HintLimits struct {
	// RepeatAfter is how long an order id, once handed over, is not handed over again.
	RepeatAfter time.Duration
	// PerMinute is how many hints a channel gets in any minute at most.
	PerMinute int
}

// ClaimWebhookHint reports whether the receiver should hand order id to the
// channel's loop: not when the id was handed over within RepeatAfter, nor while
// EKM's "not found" for it holds, nor when the channel got PerMinute hints in the
// last minute. A true answer records the hand-over, so that of concurrent
// duplicates (in any process) one wins. The channel's claims take turns under a
// lock of the transaction: otherwise concurrent claims of distinct ids, in one
// process or several, each count the minute's hints without the others' and
// pass the bound together.
func (s *Store) ClaimWebhookHint(ctx context.Context, channelID, orderID int64, lim HintLimits) (bool, error) {
	var ok bool
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('ekmsync-webhook-hints', $1))`, channelID); err != nil {
			return err
		}
		// statement_timestamp(), not now(): the transaction began before the
		// lock was granted, and the minute is the one up to this claim.
		err := tx.QueryRow(ctx, `WITH recent AS (
				SELECT count(*) AS n FROM webhook_hints
				WHERE channel_id = $1 AND signalled_at > statement_timestamp() - interval '1 minute')
			INSERT INTO webhook_hints AS h (channel_id, ekm_order_id, signalled_at)
			SELECT $1, $2, statement_timestamp() FROM recent WHERE n < $4
			ON CONFLICT (channel_id, ekm_order_id) DO UPDATE SET signalled_at = statement_timestamp(), not_found_until = NULL
				WHERE h.signalled_at < statement_timestamp() - make_interval(secs => $3)
				AND (h.not_found_until IS NULL OR h.not_found_until < statement_timestamp())
			RETURNING true`, channelID, orderID, lim.RepeatAfter.Seconds(), lim.PerMinute).Scan(&ok)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		return err
	})
	return ok, err
}

// MarkHintsNotFound records that EKM answered "not found" for order ids a hint
// named: the receiver does not hand them over again for d.
func (s *Store) MarkHintsNotFound(ctx context.Context, channelID int64, ids []int64, d time.Duration) error {
	if len(ids) == 0 {
		return nil
	}
	// An id not handed over by the receiver (a sync-now's) gets signalled_at
	// -infinity: it does not count against the channel's hints a minute.
	_, err := s.Pool.Exec(ctx, `INSERT INTO webhook_hints (channel_id, ekm_order_id, signalled_at, not_found_until)
		SELECT $1, id, '-infinity', now() + make_interval(secs => $3) FROM unnest($2::bigint[]) AS id
		ON CONFLICT (channel_id, ekm_order_id) DO UPDATE SET not_found_until = EXCLUDED.not_found_until`,
		channelID, ids, d.Seconds())
	return err
}

// PruneWebhookHints deletes hint records older than age whose "not found" has
// expired: the table holds at most a channel's PerMinute × age rows.
func (s *Store) PruneWebhookHints(ctx context.Context, age time.Duration) error {
	_, err := s.Pool.Exec(ctx, `DELETE FROM webhook_hints WHERE signalled_at < now() - make_interval(secs => $1)
		AND (not_found_until IS NULL OR not_found_until < now())`, age.Seconds())
	return err
}

// DefaultHintLimits are the bounds the worker applies: an id is handed over at
// most every 10 s (EKM's duplicates and retries come within seconds; an update
// within 10 s of the last hand-over waits for the window sync), a channel gets at
// most 60 hints a minute (half of EKM's leak rate, if each hint cost one request;
// the window sync catches what is dropped), and an id EKM did not have is not
// asked again for 10 minutes.
var DefaultHintLimits = HintLimits{RepeatAfter: 10 * time.Second, PerMinute: 60}

// HintNotFoundFor is how long an order id EKM answered "not found" for is not
// handed to the loop again.
const HintNotFoundFor = 10 * time.Minute

// ReleaseWebhookHint forgets a hand-over that did not happen (the signal
// failed), so that EKM's retry of the webhook is handed over.
func (s *Store) ReleaseWebhookHint(ctx context.Context, channelID, orderID int64) error {
	_, err := s.Pool.Exec(ctx, `DELETE FROM webhook_hints WHERE channel_id = $1 AND ekm_order_id = $2 AND not_found_until IS NULL`,
		channelID, orderID)
	return err
}
