package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/secret"
)

// Binding is the API a channel's credentials are sealed for: its base URL, and the
// mode the operator chose through the CLI (EKM's own host only, or a simulator).
// It is stored in channel_credentials.bound_to and is part of the authenticated
// data of every box, so a row changed by SQL can neither point the credentials at
// another host nor widen the mode: the boxes then no longer open.
type Binding struct {
	Mode channel.APIMode `json:"mode"`
	URL  string          `json:"url"`
}

// String is the stored form, "<mode> <url>".
func (b Binding) String() string { return string(b.Mode) + " " + b.URL }

func parseBinding(s string) (Binding, error) {
	mode, u, ok := strings.Cut(s, " ")
	if !ok || u == "" {
		return Binding{}, fmt.Errorf("malformed binding %q", s)
	}
	return Binding{Mode: channel.APIMode(mode), URL: u}, nil
}

// ErrUnbound means the channel's credentials were sealed before they were bound to
// an API (before migration 007): BindLegacy binds them at first use.
var ErrUnbound = errors.New("the channel's credentials are not bound to an API URL yet")

// RefusedError is returned instead of a channel's credentials when they may not be
// sent where the channel's row points. Reason says what happened and which command
// fixes it; it holds no secret.
type RefusedError struct{ Reason string }

func (e *RefusedError) Error() string { return e.Reason }

// boxContext is the authenticated data of a credential box: its row and column, and
// for a bound row its binding. A legacy row (boundTo nil) has no binding part.
func boxContext(channelID int64, column string, boundTo *string) string {
	c := sealContext(channelID, column)
	if boundTo != nil {
		c += " for " + *boundTo
	}
	return c
}

// credRow is a channel's credentials row with the channel's name and API URL.
type credRow struct {
	id                      int64
	name, apiURL            string
	boundTo                 *string
	secret, access, refresh []byte
	expiry                  *time.Time
}

const credSelect = `SELECT cc.channel_id, c.name, c.api_base_url, cc.bound_to, cc.client_secret, cc.access_token,
	cc.refresh_token, cc.access_expires_at FROM channel_credentials cc JOIN channels c ON c.id = cc.channel_id
	WHERE cc.channel_id = $1`

func readCred(ctx context.Context, q querier, channelID int64, forUpdate bool) (credRow, error) {
	sql := credSelect
	if forUpdate {
		sql += ` FOR UPDATE OF cc`
	}
	var r credRow
	err := q.QueryRow(ctx, sql, channelID).Scan(&r.id, &r.name, &r.apiURL, &r.boundTo, &r.secret, &r.access, &r.refresh, &r.expiry)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, fmt.Errorf("channel %d has no credentials: %w", channelID, ErrNotFound)
	}
	return r, err
}

// check says whether the credentials may be sent to want, the API URL the caller
// will call ("" means the row's own): only when the row's api_base_url is the URL
// they are bound to, and that URL is allowed under the bound mode.
func (r credRow) check(want string) error {
	if r.boundTo == nil {
		return fmt.Errorf("channel %s: %w", r.name, ErrUnbound)
	}
	b, err := parseBinding(*r.boundTo)
	if err == nil {
		err = channel.AllowedAPI(b.URL, b.Mode)
	}
	if err != nil {
		return &RefusedError{Reason: fmt.Sprintf("credentials refused: their binding is not valid (%v): add the channel again", err)}
	}
	if r.apiURL != b.URL {
		return &RefusedError{Reason: fmt.Sprintf("credentials refused: api_base_url %s is not the URL the channel's credentials are sealed for (%s); "+
			"it was changed outside 'starter channel set', so no token or secret is sent there. "+
			"Restore it with 'starter channel set %s api-base-url=%s', or, if the new URL is right, confirm it with 'starter channel set %s api-base-url=<url>'",
			shorten(r.apiURL), b.URL, r.name, b.URL, r.name)}
	}
	if want != "" && want != r.apiURL {
		return fmt.Errorf("channel %s: its API URL changed while the call was prepared: try again", r.name)
	}
	return nil
}

// open unseals one box of the row under its context; a box that does not open
// under its binding was tampered with.
func (r credRow) open(key *secret.Key, column string, box []byte) (string, error) {
	plain, err := key.OpenString(box, boxContext(r.id, column, r.boundTo))
	if err != nil {
		if errors.Is(err, secret.ErrWrongKey) || r.boundTo == nil {
			return "", fmt.Errorf("%s of channel %s: %w", strings.ReplaceAll(column, "_", " "), r.name, err)
		}
		return "", &RefusedError{Reason: fmt.Sprintf("credentials refused: the %s of channel %s does not open under its binding "+
			"(the credentials row was changed outside ekmsync): remove the channel and add it again", strings.ReplaceAll(column, "_", " "), r.name)}
	}
	return plain, nil
}

func shorten(s string) string {
	if len(s) <= 200 {
		return s
	}
	return strings.ToValidUTF8(s[:200], "") + "..."
}

// BindCredentials re-seals a channel's credentials for the API URL u, in a
// transaction of its own (after 'channel add'). See rebind.
func (s *Store) BindCredentials(ctx context.Context, key *secret.Key, channelID int64, u string, allowSimulator bool, actor string) error {
	return pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		return rebind(ctx, tx, key, channelID, u, allowSimulator, actor)
	})
}

// rebind re-seals the credentials of a channel for the API URL u, which the
// operator chose through the CLI: EKM's own host, a loopback URL, or any http(s)
// URL when allowSimulator is set or the channel is already a simulator channel.
// It audits the change, and lifts a refusal (the row now matches its binding).
func rebind(ctx context.Context, tx pgx.Tx, key *secret.Key, channelID int64, u string, allowSimulator bool, actor string) error {
	r, err := readCred(ctx, tx, channelID, true)
	if err != nil {
		return err
	}
	old := "(none)"
	if r.boundTo != nil {
		old = *r.boundTo
		if b, err := parseBinding(*r.boundTo); err == nil && b.Mode == channel.APIModeSimulator {
			allowSimulator = true
		}
	}
	mode, err := channel.ModeFor(u, allowSimulator)
	if err != nil {
		return err
	}
	next := Binding{Mode: mode, URL: u}.String()
	boxes := []*[]byte{&r.secret, &r.access, &r.refresh}
	for i, col := range []string{"client_secret", "access_token", "refresh_token"} {
		if *boxes[i] == nil {
			continue
		}
		plain, err := r.open(key, col, *boxes[i])
		if err != nil {
			return err
		}
		*boxes[i] = key.Seal([]byte(plain), boxContext(channelID, col, &next))
	}
	if _, err := tx.Exec(ctx, `UPDATE channel_credentials SET bound_to = $2, client_secret = $3, access_token = $4,
		refresh_token = $5, updated_at = now() WHERE channel_id = $1`, channelID, next, r.secret, r.access, r.refresh); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE channels SET auth_state = CASE WHEN $2 THEN 'ok' ELSE 'unauthorised' END,
		auth_error = NULL, updated_at = now() WHERE id = $1 AND auth_state = 'refused'`, channelID, r.refresh != nil); err != nil {
		return err
	}
	if old == next {
		return nil
	}
	return audit(ctx, tx, AuditEntry{ChannelID: channelID, Channel: r.name, Actor: actor, Action: "credentials.bound",
		OldValue: old, NewValue: next})
}

// BindLegacy binds, at first use, credentials sealed before they were bound
// (migration 007) to the channel's API URL, when that URL is EKM's own or a
// loopback address; any other URL is refused with the command that binds it. A row
// bound meanwhile by another process is left alone.
func (s *Store) BindLegacy(ctx context.Context, key *secret.Key, channelID int64) error {
	return pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		r, err := readCred(ctx, tx, channelID, true)
		if err != nil || r.boundTo != nil {
			return err
		}
		if _, err := channel.ModeFor(r.apiURL, false); err != nil {
			return &RefusedError{Reason: fmt.Sprintf("credentials refused: they were stored before ekmsync bound credentials to an API, "+
				"and api_base_url %s is neither EKM's API (https://%s) nor a loopback address: if it is right (a simulator), "+
				"bind them with 'starter channel set %s --simulator api-base-url=%s'", shorten(r.apiURL), channel.EKMAPIHost, r.name, shorten(r.apiURL))}
		}
		return rebind(ctx, tx, key, channelID, r.apiURL, false, "ekmsync")
	})
}
