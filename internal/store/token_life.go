package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ekmsync/ekmsync/internal/ekm"
)

// TokenLife is what the hub knows of a channel's refresh token, without the token:
// when it was last used (refresh tokens are single use, so that is when the stored
// one was issued: at the authorisation or the latest refresh) and so when EKM lets
// it lapse.
type TokenLife struct {
	ChannelID int64  `json:"-"`
	Channel   string `json:"-"`
	// KeepAlive is the channel's token-keepalive setting.
	KeepAlive bool `json:"keepalive"`
	// Authorised: the channel's consent is ok (a dead or refused token has no life).
	Authorised bool `json:"-"`
	// LastUsed is nil before the first authorisation.
	LastUsed *time.Time `json:"last_used"`
	// LapsesAt is LastUsed plus EKM's RefreshTokenLifetime.
	LapsesAt *time.Time `json:"lapses_at"`
	// WarnedAt is when a coming lapse was last warned of.
	WarnedAt *time.Time `json:"warned_at,omitempty"`
}

const tokenLifeColumns = `c.id, c.name, c.token_keepalive, c.auth_state = 'ok', cr.refreshed_at, cr.lapse_warned_at`

func scanTokenLife(row pgx.Row) (TokenLife, error) {
	var l TokenLife
	if err := row.Scan(&l.ChannelID, &l.Channel, &l.KeepAlive, &l.Authorised, &l.LastUsed, &l.WarnedAt); err != nil {
		return l, err
	}
	if l.LastUsed != nil {
		lapse := l.LastUsed.Add(ekm.RefreshTokenLifetime)
		l.LapsesAt = &lapse
	}
	return l, nil
}

// TokenLife returns the refresh token's life of one channel, for 'channel show'.
func (s *Store) TokenLife(ctx context.Context, channelID int64) (TokenLife, error) {
	return scanTokenLife(s.Pool.QueryRow(ctx, `SELECT `+tokenLifeColumns+`
		FROM channels c JOIN channel_credentials cr ON cr.channel_id = c.id WHERE c.id = $1`, channelID))
}

// TokenLives lists the token life of every channel that is not removed and whose
// consent is ok, enabled or not: the keep-alive's work list.
func (s *Store) TokenLives(ctx context.Context) ([]TokenLife, error) {
	rows, err := s.Pool.Query(ctx, `SELECT `+tokenLifeColumns+`
		FROM channels c JOIN channel_credentials cr ON cr.channel_id = c.id
		WHERE c.removed_at IS NULL AND c.auth_state = 'ok' AND cr.refreshed_at IS NOT NULL ORDER BY c.id`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (TokenLife, error) { return scanTokenLife(r) })
}

// ClaimLapseWarning records that the coming lapse of a channel's refresh token is
// warned of at now, unless it was within the last `every` (by this or another
// worker): it reports whether this caller is the one to warn.
func (s *Store) ClaimLapseWarning(ctx context.Context, channelID int64, now time.Time, every time.Duration) (bool, error) {
	tag, err := s.Pool.Exec(ctx, `UPDATE channel_credentials SET lapse_warned_at = $2
		WHERE channel_id = $1 AND (lapse_warned_at IS NULL OR lapse_warned_at <= $2::timestamptz - make_interval(secs => $3::float8))`,
		channelID, now, every.Seconds())
	return tag.RowsAffected() == 1, err
}
