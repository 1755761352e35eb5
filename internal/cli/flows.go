package cli

import (
	"context"
	"fmt"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/ekm"
	"github.com/ekmsync/ekmsync/internal/shop"
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
	e.wake(ctx, name, workflows.Starter.WakeChannel)
}

// wakePush tells the channel's push loop that the hub changed (parcels, stock,
// prices): the fast path beside the worker's LISTEN/NOTIFY.
func (e *env) wakePush(ctx context.Context, name string) {
	e.wake(ctx, name, workflows.Starter.WakePush)
}

func (e *env) wake(ctx context.Context, name string, how func(workflows.Starter, context.Context, string) error) {
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

// subscribeWebhooks subscribes the worker's receiver to the shop's order webhooks,
// when EKMSYNC_WEBHOOK_BASE_URL says where the worker is reachable. It returns a
// warning, or "".
func (e *env) subscribeWebhooks(ctx context.Context, conn *shop.Connector, s channel.Settings) string {
	cfg, err := e.config()
	if err != nil || cfg.WebhookBaseURL == "" {
		return ""
	}
	endpoint := WebhookEndpoint(cfg.WebhookBaseURL, s.Name)
	client, err := conn.Client(ctx, s)
	if err != nil {
		return "webhooks not subscribed: " + err.Error()
	}
	existing, err := client.Webhooks(ctx)
	if err != nil {
		return "webhooks not subscribed: " + explain(err)
	}
	for _, topic := range []string{ekm.TopicOrderCreated, ekm.TopicOrderUpdated} {
		found := false
		for _, w := range existing {
			found = found || (w.Topic == topic && w.Endpoint == endpoint && w.IsEnabled)
		}
		if found {
			continue
		}
		if _, err := client.CreateWebhook(ctx, ekm.AddWebhook{Topic: topic, Endpoint: endpoint, IsEnabled: true}); err != nil {
			return "webhook " + topic + " not subscribed: " + explain(err)
		}
	}
	return ""
}

// WebhookEndpoint is where EKM posts a channel's webhooks: the worker's receiver.
func WebhookEndpoint(base, channel string) string {
	for len(base) > 0 && base[len(base)-1] == '/' {
		base = base[:len(base)-1]
	}
	return base + "/webhooks/ekm/" + channel
}
