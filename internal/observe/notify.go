package observe

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/store"
	"github.com/ekmsync/ekmsync/workflows"
)

// The thresholds of the events, the same as deploy/monitoring/alerts.yml's.
const (
	// staleIntervals: an order sync is stale after this many order-sync-intervals.
	staleIntervals = 3
	// listingStuckAfter: a running listing download whose state has not moved for
	// this long is stuck.
	listingStuckAfter = 30 * time.Minute
	// tokenOldAfter: EKM's refresh tokens lapse 15 days after their last use.
	tokenOldAfter = 10 * 24 * time.Hour
	// throttledFor: EKM answering 429s this long is worth a person's look.
	throttledFor = 15 * time.Minute
)

// DefaultNotifyWindow is how long after a notification the same event of the same
// channel is not sent again, even if it cleared and recurred meanwhile.
const DefaultNotifyWindow = 30 * time.Minute

// event is one thing about a channel that needs a person.
type event struct {
	// Kind names the event: needs-reauth, misconfigured, order-sync-stale,
	// orders-quarantined, loop-not-running, rate-limited, listing-download-stuck,
	// refresh-token-old, drift.
	Kind string
	// Text says what happened and the command that fixes it.
	Text string
}

// Notifier tells an operator (a Slack incoming webhook, or anything that takes
// its {"text": ...} JSON) when a channel needs a person. Every worker process runs
// one; PostgreSQL decides which of them sends each notification (ClaimNotification),
// so each event of each channel is sent once, and again only after it cleared and
// recurred, at most once per Window.
type Notifier struct {
	// Store is the hub: channels, their health facts (and the notification claims).
	Store *store.Store
	// Temporal answers whether the loops run; nil leaves loop-not-running out.
	Temporal client.Client
	// URL receives the POSTs. It is a secret (a Slack webhook URL is a credential):
	// never logged.
	URL string
	// Window debounces each channel's event kind (default DefaultNotifyWindow).
	Window time.Duration
	// HTTP sends the POSTs (default: a client with a 10 s timeout).
	HTTP *http.Client
	// Logger receives what was sent and what failed (never the URL); nil discards.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Run checks every interval until ctx ends.
func (n *Notifier) Run(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = time.Minute
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := n.Check(ctx); err != nil && ctx.Err() == nil {
			n.logger().Warn("notifications: check failed; trying again at the next", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Check works out every channel's events, sends those this process claims, and
// marks those that no longer hold as cleared.
func (n *Notifier) Check(ctx context.Context) error {
	channels, err := n.Store.Channels(ctx)
	if err != nil {
		return err
	}
	health, err := n.Store.ChannelHealth(ctx)
	if err != nil {
		return err
	}
	now := time.Now()
	if n.Now != nil {
		now = n.Now()
	}
	window := n.Window
	if window <= 0 {
		window = DefaultNotifyWindow
	}
	var failed error
	for _, s := range channels {
		found := events(s, health[s.ID], now)
		if n.Temporal != nil && len(channels) <= maxLoopChecks {
			found = append(found, n.loopEvents(ctx, s)...)
		}
		holding := make([]string, 0, len(found))
		for _, e := range found {
			holding = append(holding, e.Kind)
			claimed, err := n.Store.ClaimNotification(ctx, s.ID, e.Kind, e.Text, window)
			if err != nil {
				return err
			}
			if !claimed {
				continue
			}
			if err := n.post(ctx, e.Text); err != nil {
				failed = err
				n.logger().Warn("notifications: could not send; the next check tries again", "channel", s.Name, "event", e.Kind, "err", err)
				if err := n.Store.ReleaseNotification(context.WithoutCancel(ctx), s.ID, e.Kind); err != nil {
					return err
				}
				continue
			}
			n.logger().Info("notified", "channel", s.Name, "event", e.Kind)
		}
		if err := n.Store.ClearNotifications(ctx, s.ID, holding); err != nil {
			return err
		}
	}
	return failed
}

// events are the channel's events that need a person now, from its settings and
// the hub's health facts.
func events(s channel.Settings, h store.ChannelHealth, now time.Time) []event {
	var out []event
	add := func(kind, format string, args ...any) {
		out = append(out, event{Kind: kind, Text: fmt.Sprintf("ekmsync channel *%s*: ", s.Name) + fmt.Sprintf(format, args...)})
	}
	st := s.Status()
	switch st.State {
	case channel.StateNeedsReauth:
		add("needs-reauth", "needs reauthorisation, nothing syncs: %s. Fix: `starter channel reauthorise %s`", st.Reason, s.Name)
	case channel.StateMisconfigured:
		add("misconfigured", "is misconfigured, orders do not download: %s. See `starter channel show %s`", st.Reason, s.Name)
	}
	if st.State == channel.StateOK && h.LastOrderSync != nil && now.Sub(*h.LastOrderSync) > staleIntervals*s.OrderSyncInterval {
		add("order-sync-stale", "no order sync has succeeded since %s (%d order-sync-intervals). See `starter orders status %s` and the last errors in `starter channel show %s`",
			h.LastOrderSync.UTC().Format(time.RFC3339), staleIntervals, s.Name, s.Name)
	}
	if h.Quarantined > 0 {
		add("orders-quarantined", "%d orders from EKM could not be read and are quarantined. See `starter orders problems %s`", h.Quarantined, s.Name)
	}
	if h.ListingInProgress && h.ListingUpdatedAt != nil && now.Sub(*h.ListingUpdatedAt) > listingStuckAfter {
		add("listing-download-stuck", "the listing download has not moved since %s. See `starter listings status %s`; `starter listings download %s` joins or restarts it",
			h.ListingUpdatedAt.UTC().Format(time.RFC3339), s.Name, s.Name)
	}
	if h.ThrottledSince != nil && now.Sub(*h.ThrottledSince) >= throttledFor {
		add("rate-limited", "EKM has kept answering 429 (too many requests) since %s: another app may share the shop's rate limit. See `starter channel show %s`",
			h.ThrottledSince.UTC().Format(time.RFC3339), s.Name)
	}
	if h.TokensAt != nil && now.Sub(*h.TokensAt) > tokenOldAfter {
		add("refresh-token-old", "the refresh token is %d days old and EKM lets it lapse 15 days after its last use. Enable the channel (`starter channel enable %s`) so that it refreshes, or run `starter channel reauthorise %s`",
			int(now.Sub(*h.TokensAt)/(24*time.Hour)), s.Name, s.Name)
	}
	if h.DriftedRows > 0 {
		add("drift", "the last drift comparison found %d rows where EKM differs from what the hub wants. See `starter channel drift %s --drifted-only`; `--heal` repairs them through the push and the order back-fill",
			h.DriftedRows, s.Name)
	}
	return out
}

// loopEvents reports the channel's loop workflows that do not run.
func (n *Notifier) loopEvents(ctx context.Context, s channel.Settings) []event {
	h := Hub{Temporal: n.Temporal}
	var out []event
	for _, id := range []string{workflows.OrderSyncID(s.Name), workflows.ChannelPushID(s.Name)} {
		running, err := h.running(ctx, id)
		if err == nil && !running {
			out = append(out, event{Kind: "loop-not-running", Text: fmt.Sprintf(
				"ekmsync channel *%s*: the workflow %s is not running. Every worker's supervisor starts it again within a minute; if it stays down, see why its run closed with `starter channel show %s`, and start the channel's loops with `starter channel enable %s`",
				s.Name, id, s.Name, s.Name)})
			break
		}
	}
	return out
}

// post sends text as a Slack incoming webhook's message.
func (n *Notifier) post(ctx context.Context, text string) error {
	body, _ := json.Marshal(map[string]string{"text": text})
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("EKMSYNC_NOTIFY_URL: invalid")
	}
	req.Header.Set("Content-Type", "application/json")
	hc := n.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		// The error names the URL, which is a secret: say only what went wrong.
		return fmt.Errorf("POST to EKMSYNC_NOTIFY_URL failed: %s", redactURLError(err))
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("EKMSYNC_NOTIFY_URL answered %s", resp.Status)
	}
	return nil
}

func (n *Notifier) logger() *slog.Logger {
	if n.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return n.Logger
}

// redactURLError is the cause of a failed request without the URL it names.
func redactURLError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return "request failed"
}
