package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ekmsync/ekmsync/internal/ekm"
	"github.com/ekmsync/ekmsync/internal/secret"
)

// Seal contexts bind each sealed value to its row and column, so a box copied to
// another channel or column does not open.
func sealContext(channelID int64, column string) string {
	return fmt.Sprintf("ekmsync channel %d %s", channelID, column)
}

// SealClientSecret seals a channel's client secret for storage.
func SealClientSecret(key *secret.Key, channelID int64, clientSecret string) []byte {
	return key.Seal([]byte(clientSecret), sealContext(channelID, "client_secret"))
}

// ClientSecret returns a channel's client secret, unsealed.
func (s *Store) ClientSecret(ctx context.Context, key *secret.Key, channelID int64) (string, error) {
	var box []byte
	err := s.Pool.QueryRow(ctx, `SELECT client_secret FROM channel_credentials WHERE channel_id = $1`, channelID).Scan(&box)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("channel %d has no credentials: %w", channelID, ErrNotFound)
	}
	if err != nil {
		return "", err
	}
	plain, err := key.Open(box, sealContext(channelID, "client_secret"))
	if err != nil {
		return "", fmt.Errorf("client secret of channel %d: %w", channelID, err)
	}
	return string(plain), nil
}

// SetClientSecret replaces a channel's client secret.
func (s *Store) SetClientSecret(ctx context.Context, key *secret.Key, channelID int64, clientSecret string) error {
	_, err := s.Pool.Exec(ctx, `UPDATE channel_credentials SET client_secret = $2, updated_at = now() WHERE channel_id = $1`,
		channelID, SealClientSecret(key, channelID, clientSecret))
	return err
}

// SaveTokens stores a fresh token pair (after an authorisation) and marks the
// channel's consent ok.
func (s *Store) SaveTokens(ctx context.Context, key *secret.Key, channelID int64, t ekm.Tokens) error {
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		return writeTokens(ctx, tx, key, channelID, t)
	})
	if err != nil {
		return err
	}
	return s.SetAuthState(ctx, channelID, "ok", "")
}

func writeTokens(ctx context.Context, q querier, key *secret.Key, channelID int64, t ekm.Tokens) error {
	_, err := q.Exec(ctx, `UPDATE channel_credentials SET access_token = $2, refresh_token = $3,
		access_expires_at = $4, refreshed_at = now(), updated_at = now() WHERE channel_id = $1`,
		channelID, key.SealString(t.AccessToken, sealContext(channelID, "access_token")),
		key.SealString(t.RefreshToken, sealContext(channelID, "refresh_token")), nullTime(t.Expiry))
	return err
}

func readTokens(row pgx.Row, key *secret.Key, channelID int64) (ekm.Tokens, error) {
	var access, refresh []byte
	var expiry *time.Time
	if err := row.Scan(&access, &refresh, &expiry); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return ekm.Tokens{}, fmt.Errorf("channel %d has no credentials: %w", channelID, ErrNotFound)
		}
		return ekm.Tokens{}, err
	}
	var t ekm.Tokens
	var err error
	if t.AccessToken, err = key.OpenString(access, sealContext(channelID, "access_token")); err != nil {
		return t, fmt.Errorf("access token of channel %d: %w", channelID, err)
	}
	if t.RefreshToken, err = key.OpenString(refresh, sealContext(channelID, "refresh_token")); err != nil {
		return t, fmt.Errorf("refresh token of channel %d: %w", channelID, err)
	}
	if expiry != nil {
		t.Expiry = *expiry
	}
	return t, nil
}

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// TokenStore is the PostgreSQL ekm.TokenStore of one channel: tokens sealed at rest,
// and refreshes serialised across processes by a row lock on the credentials.
type TokenStore struct {
	store     *Store
	key       *secret.Key
	channelID int64
}

// Tokens returns the token store of a channel.
func (s *Store) Tokens(key *secret.Key, channelID int64) *TokenStore {
	return &TokenStore{store: s, key: key, channelID: channelID}
}

// Load returns the stored tokens.
func (ts *TokenStore) Load(ctx context.Context) (ekm.Tokens, error) {
	return readTokens(ts.store.Pool.QueryRow(ctx,
		`SELECT access_token, refresh_token, access_expires_at FROM channel_credentials WHERE channel_id = $1`, ts.channelID),
		ts.key, ts.channelID)
}

// Refresh runs fn under SELECT ... FOR UPDATE on the channel's credentials, so that
// no two processes refresh one channel at once; the second re-reads the first's
// result. New tokens are committed before Refresh returns, so a rotated refresh
// token is stored before the new access token is used.
func (ts *TokenStore) Refresh(ctx context.Context, fn func(current ekm.Tokens) (ekm.Tokens, bool, error)) (ekm.Tokens, error) {
	var out ekm.Tokens
	err := pgx.BeginFunc(ctx, ts.store.Pool, func(tx pgx.Tx) error {
		cur, err := readTokens(tx.QueryRow(ctx, `SELECT access_token, refresh_token, access_expires_at
			FROM channel_credentials WHERE channel_id = $1 FOR UPDATE`, ts.channelID), ts.key, ts.channelID)
		if err != nil {
			return err
		}
		next, changed, err := fn(cur)
		if err != nil {
			return err
		}
		if !changed {
			out = cur
			return nil
		}
		out = next
		return writeTokens(ctx, tx, ts.key, ts.channelID, next)
	})
	return out, err
}

// RotateKey re-seals every client secret and token under newKey. Boxes already
// sealed under newKey are left alone, so an interrupted rotation can be run again.
func (s *Store) RotateKey(ctx context.Context, oldKey, newKey *secret.Key) (int, error) {
	n := 0
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT channel_id, client_secret, access_token, refresh_token FROM channel_credentials FOR UPDATE`)
		if err != nil {
			return err
		}
		type row struct {
			id                      int64
			secret, access, refresh []byte
		}
		all, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
			var x row
			return x, r.Scan(&x.id, &x.secret, &x.access, &x.refresh)
		})
		if err != nil {
			return err
		}
		for _, r := range all {
			boxes := []*[]byte{&r.secret, &r.access, &r.refresh}
			for i, col := range []string{"client_secret", "access_token", "refresh_token"} {
				box := *boxes[i]
				if box == nil || newKey.SealedBy(box) {
					continue
				}
				plain, err := oldKey.Open(box, sealContext(r.id, col))
				if err != nil {
					return fmt.Errorf("channel %d %s: %w", r.id, col, err)
				}
				*boxes[i] = newKey.Seal(plain, sealContext(r.id, col))
			}
			if _, err := tx.Exec(ctx, `UPDATE channel_credentials SET client_secret = $2, access_token = $3, refresh_token = $4,
				updated_at = now() WHERE channel_id = $1`, r.id, r.secret, r.access, r.refresh); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}
