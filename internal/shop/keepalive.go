package shop

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/ekmsync/ekmsync/internal/store"
)

// The keep-alive's defaults. EKM's refresh token lapses 15 days after its last use;
// a token idle for 7 days is refreshed, 8 days before the lapse, so that a pass every
// hour has days of retries before the warning window (the last 5 days) opens.
const (
	DefaultKeepAliveInterval = time.Hour
	DefaultRefreshAfter      = 7 * 24 * time.Hour
	DefaultWarnBefore        = 5 * 24 * time.Hour
	// warnEvery spaces the warnings of one channel's coming lapse.
	warnEvery = 24 * time.Hour
)

// KeepAlive refreshes the tokens of every authorised channel, enabled or not, well
// before EKM lets the refresh token lapse, and warns (in the log and in the
// channel's last errors) of a lapse it will not prevent: keep-alive off, or the
// refresh keeps failing. A refresh touches no shop data: it is one call to EKM's
// token endpoint, which the channel's gate does not stop.
//
// It runs in every worker process; several at once are safe: a refresh runs under
// the credentials' row lock, and only while the stored access token is still the
// one read before it (ekm.TokenSource.ForceRefresh), so a channel another worker
// has just refreshed is not refreshed again; the warning is claimed in PostgreSQL.
type KeepAlive struct {
	// Connector builds the channels' token sources: the worker's own, so that its
	// clients see the refreshed tokens at once.
	Connector *Connector
	// Interval is the time between passes (default DefaultKeepAliveInterval).
	Interval time.Duration
	// RefreshAfter: a refresh token unused this long is refreshed (default
	// DefaultRefreshAfter).
	RefreshAfter time.Duration
	// WarnBefore: a lapse this close that will not be prevented is warned of
	// (default DefaultWarnBefore).
	WarnBefore time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger receives the refreshes and warnings; nil: the Connector's.
	Logger *slog.Logger
}

// PassResult is what one pass did.
type PassResult struct {
	// Refreshed counts the channels whose tokens this pass renewed: by its own
	// call, or (rarely) by another worker's that its call joined under the row lock.
	Refreshed int
	Failed    int      // refreshes that failed (tried again at the next pass)
	Warned    []string // channels warned of a coming lapse
}

// Run makes a pass at once and then every Interval, until ctx ends.
func (k *KeepAlive) Run(ctx context.Context) {
	interval := k.Interval
	if interval <= 0 {
		interval = DefaultKeepAliveInterval
	}
	for {
		if _, err := k.Pass(ctx); err != nil && ctx.Err() == nil {
			k.logger().Warn("token keep-alive: pass failed; tried again at the next", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}

// Pass refreshes the tokens that are due and warns of the lapses that stand.
func (k *KeepAlive) Pass(ctx context.Context) (PassResult, error) {
	var res PassResult
	lives, err := k.Connector.Store.TokenLives(ctx)
	if err != nil {
		return res, fmt.Errorf("list the channels' tokens: %w", err)
	}
	now := k.now()
	for _, l := range lives {
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		log := k.logger().With("channel", l.Channel)
		var refreshErr error
		if l.KeepAlive && now.Sub(*l.LastUsed) >= k.refreshAfter() {
			var done bool
			if done, refreshErr = k.refresh(ctx, l); refreshErr == nil {
				if done {
					res.Refreshed++
					log.Info("token keep-alive: refreshed the channel's tokens", "last_used", *l.LastUsed)
				}
				continue
			}
			res.Failed++
			log.Warn("token keep-alive: refresh failed; tried again at the next pass", "err", refreshErr)
		}
		if now.Before(l.LapsesAt.Add(-k.warnBefore())) {
			continue
		}
		why := "token-keepalive is off"
		if l.KeepAlive {
			why = fmt.Sprintf("the keep-alive refresh fails (%v)", refreshErr)
			if refreshErr == nil {
				continue // not due yet: only with a RefreshAfter inside the warning window
			}
		}
		won, err := k.Connector.Store.ClaimLapseWarning(ctx, l.ChannelID, now, warnEvery)
		if err != nil {
			log.Warn("token keep-alive: could not record the lapse warning", "err", err)
		}
		if !won {
			continue
		}
		msg := fmt.Sprintf("EKM's refresh token lapses at %s (unused since %s) and %s: after that, 'starter channel reauthorise %s' is needed; "+
			"any EKM call of the channel, or 'starter channel set %s token-keepalive=on', prevents it",
			l.LapsesAt.UTC().Format(time.DateTime), l.LastUsed.UTC().Format(time.DateTime), why, l.Channel, l.Channel)
		log.Warn("token keep-alive: "+msg, "lapses_at", *l.LapsesAt)
		_ = k.Connector.Store.RecordError(ctx, l.ChannelID, "token", msg)
		res.Warned = append(res.Warned, l.Channel)
	}
	return res, nil
}

// refresh renews the channel's tokens unless another worker just did.
func (k *KeepAlive) refresh(ctx context.Context, l store.TokenLife) (bool, error) {
	s, err := k.Connector.Store.ChannelByID(ctx, l.ChannelID)
	if err != nil {
		return false, err
	}
	return k.Connector.RefreshTokens(ctx, s, *l.LastUsed)
}

func (k *KeepAlive) now() time.Time {
	if k.Now == nil {
		return time.Now()
	}
	return k.Now()
}

func (k *KeepAlive) refreshAfter() time.Duration {
	if k.RefreshAfter <= 0 {
		return DefaultRefreshAfter
	}
	return k.RefreshAfter
}

func (k *KeepAlive) warnBefore() time.Duration {
	if k.WarnBefore <= 0 {
		return DefaultWarnBefore
	}
	return k.WarnBefore
}

func (k *KeepAlive) logger() *slog.Logger {
	if k.Logger != nil {
		return k.Logger
	}
	return k.Connector.logger()
}
