package service

import (
	"context"
	"log/slog"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/ekm"
	"github.com/ekmsync/ekmsync/internal/shop"
	"github.com/ekmsync/ekmsync/internal/store"
	"github.com/ekmsync/ekmsync/internal/webhook"
)

// ensureWebhookTokens gives every channel that has no webhook token yet (added
// before tokens existed) a token, and moves its EKM subscriptions to the URL
// that carries it, under the base URL they had. It runs once per worker start,
// and is idempotent: a channel with a token is left alone, and of several workers
// starting at once the one that stores the token re-subscribes. A disabled or
// unauthorised channel is not called (the gate forbids it): it is done at the
// first start after it is enabled, or by 'starter channel reauthorise'.
func ensureWebhookTokens(ctx context.Context, st *store.Store, conn *shop.Connector, logger *slog.Logger) {
	list, err := st.WebhookReceivers(ctx)
	if err != nil {
		logger.Warn("webhook tokens: could not list the channels", "err", err)
		return
	}
	for _, rc := range list {
		if rc.TokenHash != nil || ctx.Err() != nil {
			continue
		}
		s, err := st.Channel(ctx, rc.Name)
		if err != nil {
			continue
		}
		log := logger.With("channel", s.Name)
		if s.Status().State != channel.StateOK {
			log.Info("the channel has no webhook token, and is not running: its webhooks are refused until the first worker start after it runs, or 'starter channel reauthorise'")
			continue
		}
		if err := resubscribe(ctx, st, conn, s, log); err != nil {
			log.Warn("webhook token: could not re-subscribe the channel's webhooks; tried again at the next start (or run 'starter channel reauthorise')", "err", err)
		}
	}
}

// resubscribe stores a new token for the channel s and moves its subscriptions to it.
func resubscribe(ctx context.Context, st *store.Store, conn *shop.Connector, s channel.Settings, log *slog.Logger) error {
	token, hash := webhook.NewToken()
	won, err := st.ClaimWebhookToken(ctx, s.ID, hash)
	if err != nil || !won {
		return err
	}
	err = func() error {
		client, err := conn.Client(ctx, s)
		if err != nil {
			return err
		}
		ctx := ekm.WithPriority(ctx, ekm.PriorityOrders)
		base, err := webhook.SubscribedBase(ctx, client, s.Name)
		if err != nil || base == "" {
			return err
		}
		url, err := webhook.Subscribe(ctx, client, base, s.Name, token)
		if err != nil {
			return err
		}
		log.Info("webhooks re-subscribed with a token", "url", url)
		return st.SetWebhookEndpoint(ctx, s.ID, hash, url)
	}()
	if err != nil {
		_ = st.DropWebhookToken(context.WithoutCancel(ctx), s.ID, hash)
	}
	return err
}
