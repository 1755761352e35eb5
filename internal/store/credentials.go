package store

import (
	"context"
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

// SealClientSecret seals a channel's client secret for storage, before the
// credentials are bound (BindCredentials binds them, or BindLegacy at first use).
func SealClientSecret(key *secret.Key, channelID int64, clientSecret string) []byte {
	return key.Seal([]byte(clientSecret), sealContext(channelID, "client_secret"))
}

// ClientSecret returns a channel's client secret, unsealed, when it may be sent to
// the channel's API URL (see ClientSecretFor).
func (s *Store) ClientSecret(ctx context.Context, key *secret.Key, channelID int64) (string, error) {
	return s.ClientSecretFor(ctx, key, channelID, "")
}

// ClientSecretFor returns a channel's client secret, unsealed, only when it may be
// sent to apiURL ("" means the channel's own): the channel's api_base_url must be
// the URL the credentials are bound to. Otherwise it returns a *RefusedError, or
// ErrUnbound for credentials sealed before binding existed (see BindLegacy).
func (s *Store) ClientSecretFor(ctx context.Context, key *secret.Key, channelID int64, apiURL string) (string, error) {
	r, err := readCred(ctx, s.Pool, channelID, false)
	if err != nil {
		return "", err
	}
	if err := r.check(apiURL); err != nil {
		return "", err
	}
	return r.open(key, "client_secret", r.secret)
}

// SetClientSecret replaces a channel's client secret, sealed under the channel's
// current binding.
func (s *Store) SetClientSecret(ctx context.Context, key *secret.Key, channelID int64, clientSecret string) error {
	return pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		r, err := readCred(ctx, tx, channelID, true)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE channel_credentials SET client_secret = $2, updated_at = now() WHERE channel_id = $1`,
			channelID, key.Seal([]byte(clientSecret), boxContext(channelID, "client_secret", r.boundTo)))
		return err
	})
}

// SaveTokens stores a fresh token pair (after an authorisation) and marks the
// channel's consent ok.
func (s *Store) SaveTokens(ctx context.Context, key *secret.Key, channelID int64, t ekm.Tokens) error {
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		r, err := readCred(ctx, tx, channelID, true)
		if err != nil {
			return err
		}
		return writeTokens(ctx, tx, key, r, t)
	})
	if err != nil {
		return err
	}
	return s.SetAuthState(ctx, channelID, "ok", "")
}

func writeTokens(ctx context.Context, q querier, key *secret.Key, r credRow, t ekm.Tokens) error {
	_, err := q.Exec(ctx, `UPDATE channel_credentials SET access_token = $2, refresh_token = $3,
		access_expires_at = $4, refreshed_at = now(), updated_at = now() WHERE channel_id = $1`,
		r.id, key.SealString(t.AccessToken, boxContext(r.id, "access_token", r.boundTo)),
		key.SealString(t.RefreshToken, boxContext(r.id, "refresh_token", r.boundTo)), nullTime(t.Expiry))
	return err
}

// readTokens opens the tokens of a row that may be sent to apiURL.
func readTokens(r credRow, key *secret.Key, apiURL string) (ekm.Tokens, error) {
	var t ekm.Tokens
	if err := r.check(apiURL); err != nil {
		return t, err
	}
	var err error
	if t.AccessToken, err = r.open(key, "access_token", r.access); err != nil {
		return t, err
	}
	if t.RefreshToken, err = r.open(key, "refresh_token", r.refresh); err != nil {
		return t, err
	}
	if r.expiry != nil {
		t.Expiry = *r.expiry
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
// and refreshes serialised across processes by a row lock on the credentials. It
// hands out tokens only while the channel's row matches the credentials' binding.
type TokenStore struct {
	store     *Store
	key       *secret.Key
	channelID int64
	apiURL    string
}

// Tokens returns the token store of a channel, for its own API URL.
func (s *Store) Tokens(key *secret.Key, channelID int64) *TokenStore {
	return &TokenStore{store: s, key: key, channelID: channelID}
}

// TokensFor returns the token store of a channel whose tokens are sent to apiURL:
// it refuses them when apiURL is not the URL they are bound to.
func (s *Store) TokensFor(key *secret.Key, channelID int64, apiURL string) *TokenStore {
	return &TokenStore{store: s, key: key, channelID: channelID, apiURL: apiURL}
}

// Load returns the stored tokens.
func (ts *TokenStore) Load(ctx context.Context) (ekm.Tokens, error) {
	r, err := readCred(ctx, ts.store.Pool, ts.channelID, false)
	if err != nil {
		return ekm.Tokens{}, err
	}
	return readTokens(r, ts.key, ts.apiURL)
}

// Refresh runs fn under SELECT ... FOR UPDATE on the channel's credentials, so that
// no two processes refresh one channel at once; the second re-reads the first's
// result. New tokens are committed before Refresh returns, so a rotated refresh
// token is stored before the new access token is used.
func (ts *TokenStore) Refresh(ctx context.Context, fn func(current ekm.Tokens) (ekm.Tokens, bool, error)) (ekm.Tokens, error) {
	var out ekm.Tokens
	err := pgx.BeginFunc(ctx, ts.store.Pool, func(tx pgx.Tx) error {
		r, err := readCred(ctx, tx, ts.channelID, true)
		if err != nil {
			return err
		}
		cur, err := readTokens(r, ts.key, ts.apiURL)
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
		return writeTokens(ctx, tx, ts.key, r, next)
	})
	return out, err
}

// RotateKey re-seals every client secret and token under newKey. Boxes already
// sealed under newKey are left alone, so an interrupted rotation can be run again.
func (s *Store) RotateKey(ctx context.Context, oldKey, newKey *secret.Key) (int, error) {
	n := 0
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT channel_id, bound_to, client_secret, access_token, refresh_token FROM channel_credentials FOR UPDATE`)
		if err != nil {
			return err
		}
		type row struct {
			id                      int64
			boundTo                 *string
			secret, access, refresh []byte
		}
		all, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
			var x row
			return x, r.Scan(&x.id, &x.boundTo, &x.secret, &x.access, &x.refresh)
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
				plain, err := oldKey.Open(box, boxContext(r.id, col, r.boundTo))
				if err != nil {
					return fmt.Errorf("channel %d %s: %w", r.id, col, err)
				}
				*boxes[i] = newKey.Seal(plain, boxContext(r.id, col, r.boundTo))
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
