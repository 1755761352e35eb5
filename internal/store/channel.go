package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/secret"
)

// ErrNotFound is returned when a named row does not exist.
var ErrNotFound = errors.New("not found")

// channelColumns are read by scanChannel, in this order.
const channelColumns = `c.id, c.name, c.api_base_url, c.client_id, c.redirect_url, COALESCE(c.shop_username, ''),
	c.enabled, c.currency, c.despatch_notes, c.cancellation_notes, c.download_unpaid, c.use_ekm_tax,
	c.prices_include_tax, c.default_tax_rate::float8, c.update_inventory, c.max_listed, c.stock_percentage,
	c.end_when, c.price_change, c.stock_locations, c.order_sync_interval_seconds, c.order_overlap_seconds,
	c.listing_interval_seconds, c.push_sweep_seconds, c.shop_statuses, c.auth_state, COALESCE(c.auth_error, ''),
	c.created_at, c.updated_at, c.email_on_despatch, c.email_on_cancellation, c.token_keepalive, c.shadow, c.drift_interval_seconds,
	c.listing_refresh_interval_seconds,
	COALESCE((SELECT jsonb_object_agg(m.ekm_status, m.target) FROM channel_status_map m WHERE m.channel_id = c.id), '{}'),
	COALESCE((SELECT jsonb_object_agg(d.ekm_method, d.hub_service) FROM channel_delivery_map d WHERE d.channel_id = c.id), '{}')`

func scanChannel(row pgx.Row) (channel.Settings, error) {
	var s channel.Settings
	var syncSec, overlapSec, listingSec, sweepSec, driftSec, refreshSec int
	var mapping map[string]string
	s.DeliveryMap = channel.DeliveryMapping{}
	err := row.Scan(&s.ID, &s.Name, &s.APIBaseURL, &s.ClientID, &s.RedirectURL, &s.ShopUsername,
		&s.Enabled, &s.Currency, &s.DespatchNotes, &s.CancellationNotes, &s.DownloadUnpaid, &s.UseEKMTax,
		&s.PricesIncludeTax, &s.DefaultTaxRate, &s.UpdateInventory, &s.MaxListed, &s.StockPercentage,
		&s.EndWhen, &s.PriceChange, &s.StockLocations, &syncSec, &overlapSec,
		&listingSec, &sweepSec, &s.ShopStatuses, &s.AuthState, &s.AuthError,
		&s.CreatedAt, &s.UpdatedAt, &s.EmailOnDespatch, &s.EmailOnCancellation, &s.TokenKeepAlive, &s.Shadow, &driftSec, &refreshSec, &mapping, &s.DeliveryMap)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, ErrNotFound
	}
	if err != nil {
		return s, err
	}
	s.OrderSyncInterval = time.Duration(syncSec) * time.Second
	s.OrderOverlap = time.Duration(overlapSec) * time.Second
	s.ListingInterval = time.Duration(listingSec) * time.Second
	s.PushSweepInterval = time.Duration(sweepSec) * time.Second
	s.DriftInterval = time.Duration(driftSec) * time.Second
	s.ListingRefreshInterval = time.Duration(refreshSec) * time.Second
	s.Mapping = channel.Mapping{}
	for k, v := range mapping {
		s.Mapping[k] = channel.Target(v)
	}
	return s, nil
}

// querier is what both a pool and a transaction offer.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Channel returns the settings of the channel called name.
func (s *Store) Channel(ctx context.Context, name string) (channel.Settings, error) {
	return getChannel(ctx, s.Pool, `c.name = $1 AND c.removed_at IS NULL`, name)
}

// ChannelByID returns the settings of the channel with this id.
func (s *Store) ChannelByID(ctx context.Context, id int64) (channel.Settings, error) {
	return getChannel(ctx, s.Pool, `c.id = $1`, id)
}

func getChannel(ctx context.Context, q querier, where string, arg any) (channel.Settings, error) {
	st, err := scanChannel(q.QueryRow(ctx, `SELECT `+channelColumns+` FROM channels c WHERE `+where, arg))
	if errors.Is(err, ErrNotFound) {
		return st, fmt.Errorf("channel %v: %w (list channels with 'starter channel list')", arg, ErrNotFound)
	}
	return st, err
}

// Channels lists the channels that are not removed, by name.
func (s *Store) Channels(ctx context.Context) ([]channel.Settings, error) {
	rows, err := s.Pool.Query(ctx, `SELECT `+channelColumns+` FROM channels c WHERE c.removed_at IS NULL ORDER BY c.name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []channel.Settings
	for rows.Next() {
		st, err := scanChannel(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, rows.Err()
}

// CreateChannel stores a new channel with its sealed client secret, and audits it.
// clientSecret is sealed by the caller with ClientSecretContext after the id is known,
// so it is passed as a function of the id.
func (s *Store) CreateChannel(ctx context.Context, st channel.Settings, sealSecret func(id int64) []byte, actor string) (channel.Settings, error) {
	var out channel.Settings
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		var removed bool
		err := tx.QueryRow(ctx, `SELECT removed_at IS NOT NULL FROM channels WHERE name = $1`, st.Name).Scan(&removed)
		switch {
		case err == nil && removed:
			return fmt.Errorf("a removed channel called %s still holds its data: choose another name, or purge it with 'starter channel remove %s --purge'", st.Name, st.Name)
		case err == nil:
			return fmt.Errorf("channel %s already exists (see 'starter channel show %s')", st.Name, st.Name)
		case !errors.Is(err, pgx.ErrNoRows):
			return err
		}
		var id int64
		err = tx.QueryRow(ctx, `INSERT INTO channels (name, api_base_url, client_id, redirect_url, currency, shop_statuses)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
			st.Name, st.APIBaseURL, st.ClientID, st.RedirectURL, st.Currency, nonNil(st.ShopStatuses)).Scan(&id)
		if err != nil {
			return fmt.Errorf("create channel %s: %w", st.Name, err)
		}
		st.ID = id
		if err := writeSettings(ctx, tx, st); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO channel_credentials (channel_id, client_secret) VALUES ($1, $2)`, id, sealSecret(id)); err != nil {
			return err
		}
		for _, name := range []string{"listing_downloads", "order_sync_state"} {
			if _, err := tx.Exec(ctx, `INSERT INTO `+name+` (channel_id) VALUES ($1)`, id); err != nil {
				return err
			}
		}
		if err := audit(ctx, tx, AuditEntry{ChannelID: id, Channel: st.Name, Actor: actor, Action: "channel.added"}); err != nil {
			return err
		}
		out, err = getChannel(ctx, tx, `c.id = $1`, id)
		return err
	})
	return out, err
}

// writeSettings writes every editable setting and the status mapping of st.
func writeSettings(ctx context.Context, tx pgx.Tx, st channel.Settings) error {
	_, err := tx.Exec(ctx, `UPDATE channels SET api_base_url = $2, client_id = $3, redirect_url = $4, enabled = $5,
		currency = $6, despatch_notes = $7, cancellation_notes = $8, download_unpaid = $9, use_ekm_tax = $10,
		prices_include_tax = $11, default_tax_rate = $12, update_inventory = $13, max_listed = $14,
		stock_percentage = $15, end_when = $16, price_change = $17, stock_locations = $18,
		order_sync_interval_seconds = $19, order_overlap_seconds = $20, listing_interval_seconds = $21,
		push_sweep_seconds = $22, shop_statuses = $23, email_on_despatch = $24, email_on_cancellation = $25,
		token_keepalive = $26, shadow = $27, drift_interval_seconds = $28,
		listing_refresh_interval_seconds = $29, updated_at = now()
		WHERE id = $1`,
		st.ID, st.APIBaseURL, st.ClientID, st.RedirectURL, st.Enabled,
		st.Currency, st.DespatchNotes, st.CancellationNotes, st.DownloadUnpaid, st.UseEKMTax,
		st.PricesIncludeTax, st.DefaultTaxRate, st.UpdateInventory, st.MaxListed,
		st.StockPercentage, st.EndWhen, st.PriceChange, st.StockLocations,
		seconds(st.OrderSyncInterval), seconds(st.OrderOverlap), seconds(st.ListingInterval),
		seconds(st.PushSweepInterval), nonNil(st.ShopStatuses), st.EmailOnDespatch, st.EmailOnCancellation,
		st.TokenKeepAlive, st.Shadow, seconds(st.DriftInterval), seconds(st.ListingRefreshInterval))
	if err != nil {
		return fmt.Errorf("save settings of channel %s: %w", st.Name, err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM channel_status_map WHERE channel_id = $1`, st.ID); err != nil {
		return err
	}
	for status, target := range st.Mapping {
		if _, err := tx.Exec(ctx, `INSERT INTO channel_status_map (channel_id, ekm_status, target) VALUES ($1, $2, $3)`,
			st.ID, status, string(target)); err != nil {
			return fmt.Errorf("save status mapping %s: %w", status, err)
		}
	}
	return writeDeliveryMap(ctx, tx, st)
}

func seconds(d time.Duration) int { return int(d / time.Second) }

// nonNil turns a nil list into an empty one, for NOT NULL array columns.
func nonNil(list []string) []string {
	if list == nil {
		return []string{}
	}
	return list
}

// UpdateChannel changes a channel's settings in one transaction: edit receives the
// current settings (locked against concurrent changes) and returns the new ones with
// the list of changes, each of which is written to the audit log with its old and
// new value. When edit fails, nothing changes.
func (s *Store) UpdateChannel(ctx context.Context, name, actor string,
	edit func(channel.Settings) (channel.Settings, []channel.AppliedChange, error)) (channel.Settings, []channel.AppliedChange, error) {
	return s.updateChannel(ctx, name, actor, edit, nil)
}

// UpdateChannelAPI is UpdateChannel for a change that sets the API URL through
// the CLI: in the same transaction, the credentials are re-sealed for the new URL
// (rebind), even when it is unchanged, which confirms a URL changed by SQL.
// allowSimulator lets a URL other than EKM's or a loopback one be bound.
func (s *Store) UpdateChannelAPI(ctx context.Context, key *secret.Key, name, actor string, allowSimulator bool,
	edit func(channel.Settings) (channel.Settings, []channel.AppliedChange, error)) (channel.Settings, []channel.AppliedChange, error) {
	return s.updateChannel(ctx, name, actor, edit, func(tx pgx.Tx, next channel.Settings) error {
		return rebind(ctx, tx, key, next.ID, next.APIBaseURL, allowSimulator, actor)
	})
}

func (s *Store) updateChannel(ctx context.Context, name, actor string,
	edit func(channel.Settings) (channel.Settings, []channel.AppliedChange, error),
	after func(pgx.Tx, channel.Settings) error) (channel.Settings, []channel.AppliedChange, error) {
	var out channel.Settings
	var changes []channel.AppliedChange
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT 1 FROM channels WHERE name = $1 AND removed_at IS NULL FOR UPDATE`, name); err != nil {
			return err
		}
		cur, err := getChannel(ctx, tx, `c.name = $1 AND c.removed_at IS NULL`, name)
		if err != nil {
			return err
		}
		next, applied, err := edit(cur)
		if err != nil {
			return err
		}
		next.ID, next.Name = cur.ID, cur.Name
		if after == nil && next.APIBaseURL != cur.APIBaseURL {
			// The credentials are bound to the URL: only UpdateChannelAPI re-binds them.
			return errors.New("api-base-url changes only through UpdateChannelAPI, which re-binds the credentials")
		}
		if len(applied) > 0 {
			if err := writeSettings(ctx, tx, next); err != nil {
				return err
			}
		}
		for _, c := range applied {
			if err := audit(ctx, tx, AuditEntry{ChannelID: cur.ID, Channel: name, Actor: actor, Action: "setting.changed",
				Subject: c.Key, OldValue: c.Old, NewValue: c.New}); err != nil {
				return err
			}
		}
		if after != nil {
			if err := after(tx, next); err != nil {
				return err
			}
		} else if len(applied) == 0 {
			out, changes = cur, nil
			return nil
		}
		changes = applied
		out, err = getChannel(ctx, tx, `c.id = $1`, cur.ID)
		return err
	})
	if err != nil {
		return channel.Settings{}, nil, err
	}
	return out, changes, nil
}

// SetAuthState records the state of the channel's OAuth consent, and audits a change.
func (s *Store) SetAuthState(ctx context.Context, id int64, state channel.AuthState, reason string) error {
	return pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		var old, name string
		if err := tx.QueryRow(ctx, `SELECT auth_state, name FROM channels WHERE id = $1 FOR UPDATE`, id).Scan(&old, &name); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE channels SET auth_state = $2, auth_error = NULLIF($3, ''), updated_at = now() WHERE id = $1`,
			id, string(state), reason); err != nil {
			return err
		}
		if old == string(state) {
			return nil
		}
		return audit(ctx, tx, AuditEntry{ChannelID: id, Channel: name, Actor: "ekmsync", Action: "auth.state",
			OldValue: old, NewValue: string(state), Detail: map[string]any{"reason": reason}})
	})
}

// ChannelGate reads what decides whether a channel may call EKM now: whether it is
// enabled (and not removed), and the state of its consent.
func (s *Store) ChannelGate(ctx context.Context, id int64) (enabled bool, auth channel.AuthState, err error) {
	err = s.Pool.QueryRow(ctx, `SELECT enabled AND removed_at IS NULL, auth_state FROM channels WHERE id = $1`, id).Scan(&enabled, &auth)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, "", fmt.Errorf("channel %d: %w", id, ErrNotFound)
	}
	return enabled, auth, err
}

// ChannelShadow reads whether the channel is in shadow mode now: the gate asks
// it before each write to the shop.
func (s *Store) ChannelShadow(ctx context.Context, id int64) (bool, error) {
	var shadow bool
	err := s.Pool.QueryRow(ctx, `SELECT shadow FROM channels WHERE id = $1`, id).Scan(&shadow)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, fmt.Errorf("channel %d: %w", id, ErrNotFound)
	}
	return shadow, err
}

// SetShopUsername records the merchant username (the token's sub), which routes webhooks.
func (s *Store) SetShopUsername(ctx context.Context, id int64, username string) error {
	_, err := s.Pool.Exec(ctx, `UPDATE channels SET shop_username = NULLIF($2, '') WHERE id = $1`, id, username)
	return err
}

// RemoveChannel removes a channel. Without purge its rows are kept (hidden from
// lists); with purge the channel and everything downloaded for it are deleted,
// its row of the shared rate budget too.
func (s *Store) RemoveChannel(ctx context.Context, name string, purge bool, actor string) error {
	return pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		var id int64
		err := tx.QueryRow(ctx, `SELECT id FROM channels WHERE name = $1 FOR UPDATE`, name).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("channel %s: %w", name, ErrNotFound)
		}
		if err != nil {
			return err
		}
		action := "channel.removed"
		if purge {
			action = "channel.purged"
			// Outbound ledgers reference listings by a composite key: cascade handles them.
			if _, err := tx.Exec(ctx, `DELETE FROM channels WHERE id = $1`, id); err != nil {
				return err
			}
			// The shared rate budget is keyed by the name, not the id, so no cascade
			// reaches it. A worker still holding the channel's client makes the row
			// again at its next request (rateBucket.ensure).
			if _, err := tx.Exec(ctx, `DELETE FROM ekm_rate_budget WHERE channel = $1`, name); err != nil {
				return err
			}
		} else if _, err := tx.Exec(ctx, `UPDATE channels SET removed_at = now(), enabled = false WHERE id = $1`, id); err != nil {
			return err
		}
		return audit(ctx, tx, AuditEntry{Channel: name, Actor: actor, Action: action})
	})
}

// RecordError keeps an error of a channel's flow for 'channel show' (the last 50 are kept).
func (s *Store) RecordError(ctx context.Context, channelID int64, flow, message string) error {
	_, err := s.Pool.Exec(ctx, `WITH ins AS (INSERT INTO channel_errors (channel_id, flow, message) VALUES ($1, $2, $3))
		DELETE FROM channel_errors WHERE channel_id = $1 AND id IN (
			SELECT id FROM channel_errors WHERE channel_id = $1 ORDER BY at DESC OFFSET 49)`, channelID, flow, truncate(Storable(message), 2000))
	return err
}

// ChannelError is one recorded error.
type ChannelError struct {
	At      time.Time `json:"at"`
	Flow    string    `json:"flow"`
	Message string    `json:"message"`
}

// RecentErrors returns a channel's last n errors, newest first.
func (s *Store) RecentErrors(ctx context.Context, channelID int64, n int) ([]ChannelError, error) {
	rows, err := s.Pool.Query(ctx, `SELECT at, flow, message FROM channel_errors WHERE channel_id = $1 ORDER BY at DESC, id DESC LIMIT $2`, channelID, n)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[ChannelError])
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}
