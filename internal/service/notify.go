package service

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ekmsync/ekmsync/internal/flows"
	"github.com/ekmsync/ekmsync/internal/store"
)

// listenChanges wakes the channels' loops when the hub changes, however it was
// changed (CLI, SQL, another system): the migrations' triggers NOTIFY on
// "<schema>.ekmsync", and this gathers notifications for debounce before signalling.
// It reconnects after a lost connection, and wakes every push loop each time it
// begins to listen, for what changed while nothing listened.
func listenChanges(ctx context.Context, pool *pgxpool.Pool, st *store.Store, wf flows.Starter, debounce time.Duration, logger *slog.Logger) {
	for ctx.Err() == nil {
		err := listenOnce(ctx, pool, st, wf, debounce, logger)
		if ctx.Err() != nil {
			return
		}
		logger.Warn("hub change listener lost its connection; reconnecting", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(2 * time.Second):
		}
	}
}

// change is a notification's payload: the table and the channels it can affect,
// one (channel_id) or several (channel_ids); neither names every channel.
type change struct {
	Table      string  `json:"table"`
	ChannelID  *int64  `json:"channel_id"`
	ChannelIDs []int64 `json:"channel_ids"`
}

// channels returns the ids the change wakes, 0 standing for every channel.
func (c change) channels() []int64 {
	switch {
	case c.ChannelIDs != nil:
		return c.ChannelIDs
	case c.ChannelID != nil:
		return []int64{*c.ChannelID}
	default:
		return []int64{0}
	}
}

func listenOnce(ctx context.Context, pool *pgxpool.Pool, st *store.Store, wf flows.Starter, debounce time.Duration, logger *slog.Logger) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	schema, err := st.Schema(ctx)
	if err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{schema + ".ekmsync"}.Sanitize()); err != nil {
		return err
	}
	// What changed while nothing listened (this worker starting, or its
	// connection lost) sent no wake-up: every push loop looks once now, rather
	// than at its next sweep. A loop with nothing to send spends one check.
	wakeChannels(ctx, st, wf, map[int64]bool{0: false}, logger)
	for {
		n, err := conn.Conn().WaitForNotification(ctx)
		if err != nil {
			return err
		}
		// Per channel id (0: every channel), whether its settings changed (then both
		// loops re-read it) or only the hub (then only the push has work).
		pending := map[int64]bool{}
		add := func(payload string) {
			var c change
			if json.Unmarshal([]byte(payload), &c) == nil {
				for _, id := range c.channels() {
					pending[id] = pending[id] || c.Table == "channels"
				}
			}
		}
		add(n.Payload)
		// Gather what arrives within the debounce window into one wake-up each.
		gather, cancel := context.WithTimeout(ctx, debounce)
		for {
			n, err := conn.Conn().WaitForNotification(gather)
			if err != nil {
				break
			}
			add(n.Payload)
		}
		cancel()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		wakeChannels(ctx, st, wf, pending, logger)
	}
}

// wakeChannels wakes the loops of the channels in ids (0: every channel): both loops
// where the channel's settings changed, the push alone where only the hub did.
func wakeChannels(ctx context.Context, st *store.Store, wf flows.Starter, ids map[int64]bool, logger *slog.Logger) {
	channels, err := st.Channels(ctx)
	if err != nil {
		logger.Warn("hub change: could not list channels", "err", err)
		return
	}
	all, anyChannel := ids[0]
	for _, c := range channels {
		settings, mine := ids[c.ID]
		if !mine && !anyChannel {
			continue
		}
		wake := wf.WakePush
		if settings || all {
			wake = wf.WakeChannel
		}
		if err := wake(ctx, c.Name); err != nil {
			logger.Warn("hub change: could not wake the channel's loops", "channel", c.Name, "err", err)
		}
	}
}
