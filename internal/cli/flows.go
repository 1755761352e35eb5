package cli

import (
	"context"
	"fmt"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/flows"
	"github.com/ekmsync/ekmsync/internal/shop"
	"github.com/ekmsync/ekmsync/internal/webhook"
	"github.com/ekmsync/ekmsync/workflows"
)

// ensureFlows starts the channel's long-running loops (idle while the channel is
// disabled, and saying so in their status) and its listing Schedule.
func (e *env) ensureFlows(ctx context.Context, s channel.Settings) ([]string, error) {
	w, err := e.workflows(ctx)
	if err != nil {
		return nil, err
	}
	var started []string
	for _, start := range []func() (string, error){
		func() (string, error) { r, err := w.StartOrderSync(ctx, s.Name); return idOf(r), err },
		func() (string, error) { r, err := w.StartChannelPush(ctx, s.Name); return idOf(r), err },
	} {
		id, err := start()
		if err != nil {
			return started, err
		}
		started = append(started, id)
	}
	if err := w.EnsureListingSchedule(ctx, s.Name, s.ListingInterval); err != nil {
		return started, fmt.Errorf("listing schedule: %w", err)
	}
	return append(started, workflows.ListingScheduleID(s.Name)+" (schedule, every "+s.ListingInterval.String()+")"), nil
}

func idOf(r interface{ GetID() string }) string {
	if r == nil {
		return ""
	}
	return r.GetID()
}

// wakeFlows tells the channel's loops to re-read it now (after enable, a setting
// change or a reauthorisation). The worker's LISTEN/NOTIFY does the same for
// changes made in SQL; this is the fast path, and a failure only costs latency.
func (e *env) wakeFlows(ctx context.Context, name string) {
	e.wake(ctx, name, flows.Starter.WakeChannel)
}

// wakePush tells the channel's push loop that the hub changed (parcels, stock,
// prices): the fast path beside the worker's LISTEN/NOTIFY.
func (e *env) wakePush(ctx context.Context, name string) {
	e.wake(ctx, name, flows.Starter.WakePush)
}

func (e *env) wake(ctx context.Context, name string, how func(flows.Starter, context.Context, string) error) {
	w, err := e.workflows(ctx)
	if err != nil {
		fmt.Fprintf(e.io.Stderr, "note: could not reach Temporal to wake the workflows (%v); they pick the change up at their next step\n", err)
		return
	}
	if err := how(w, ctx, name); err != nil {
		fmt.Fprintf(e.io.Stderr, "note: %v\n", err)
	}
}

// afterSettingsChange applies what a settings change means outside the hub: the
// loops re-read at once, and a new listing interval reaches the Schedule; enabling
// a channel makes sure its loops run.
func (e *env) afterSettingsChange(ctx context.Context, s channel.Settings, changes []channel.AppliedChange) {
	for _, ch := range changes {
		if ch.Key == "listing-interval" || (ch.Key == "enabled" && s.Enabled) {
			if _, err := e.ensureFlows(ctx, s); err != nil {
				fmt.Fprintf(e.io.Stderr, "note: could not update the channel's workflows: %v\n", err)
			}
			break
		}
	}
	e.wakeFlows(ctx, s.Name)
}

// stopFlows terminates the channel's workflows and deletes its Schedule.
func (e *env) stopFlows(ctx context.Context, name string) error {
	w, err := e.workflows(ctx)
	if err != nil {
		return err
	}
	return w.StopChannel(ctx, name)
}

// subscribeWebhooks gives the channel a new webhook token and subscribes the
// worker's receiver to the shop's order webhooks at the URL that carries it, when
// EKMSYNC_WEBHOOK_BASE_URL says where the worker is reachable; the channel's older
// subscriptions are deleted. Without a base URL the channel only gets a token if it
// has none (one in use stays). It returns a warning, or "".
func (e *env) subscribeWebhooks(ctx context.Context, conn *shop.Connector, s channel.Settings) string {
	st := conn.Store
	base := ""
	if cfg, err := e.config(); err == nil {
		base = cfg.WebhookBaseURL
	}
	if base == "" {
		state, err := st.WebhookState(ctx, s.ID)
		if err == nil && !state.HasToken {
			_, hash := webhook.NewToken()
			err = st.SetWebhookToken(ctx, s.ID, hash, "")
		}
		if err != nil {
			return "webhook token not stored: " + err.Error()
		}
		return ""
	}
	client, err := conn.Client(ctx, s)
	if err != nil {
		return "webhooks not subscribed: " + err.Error()
	}
	token, hash := webhook.NewToken()
	url, err := webhook.Subscribe(ctx, client, base, s.Name, token)
	if err != nil {
		return "webhooks not subscribed: " + explain(err) + "; try again with 'starter channel reauthorise " + s.Name + "'"
	}
	if err := st.SetWebhookToken(ctx, s.ID, hash, url); err != nil {
		return "webhooks subscribed, but their token was not stored (" + err.Error() + "): EKM's webhooks are refused until 'starter channel reauthorise " + s.Name + "'"
	}
	return ""
}
