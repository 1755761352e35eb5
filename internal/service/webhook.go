package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"go.temporal.io/api/serviceerror"

	"github.com/ekmsync/ekmsync/internal/ekm"
	"github.com/ekmsync/ekmsync/internal/flows"
	"github.com/ekmsync/ekmsync/internal/store"
	"github.com/ekmsync/ekmsync/internal/webhook"
	"github.com/ekmsync/ekmsync/workflows"
)

// webhookBodyLimit bounds a webhook's body: EKM's is under 100 bytes.
const webhookBodyLimit = 4 << 10

// Receiver snapshot ages: the channels and their token hashes are read at most
// every receiversMinAge (when a request names an unknown channel or token) and at
// least every receiversMaxAge, so a flood of forged webhooks costs PostgreSQL one
// query a second, and a new token works within a second.
const (
	receiversMaxAge = 10 * time.Second
	receiversMinAge = time.Second
)

// refusedBody is the answer to an unknown channel, a missing or wrong token and a
// body naming another shop alike, so a caller learns nothing from the difference.
const refusedBody = "no such channel"

// receiver receives EKM's order webhooks at POST /webhooks/ekm/{channel}/{token}.
// A request is refused like an unknown channel unless its token is the channel's
// and its username the channel's shop; then only the order id is used, once per
// id in a while and a bounded number a minute per channel (shared by every
// worker process through PostgreSQL, with an in-process pre-filter in front):
// the receiver fetches the order through the API into the hub itself when it
// can (orderFetches), and otherwise hands the id to the order-sync loop.
type receiver struct {
	st        *store.Store
	wf        flows.Starter
	logger    *slog.Logger
	outcomes  func(outcome string)
	limits    store.HintLimits
	receivers receivers
	recent    recentHints
	// fetches, when set, fetches hinted orders into the hub in the request.
	fetches *orderFetches
}

func newReceiver(st *store.Store, wf flows.Starter, logger *slog.Logger, outcomes func(string)) *receiver {
	return &receiver{st: st, wf: wf, logger: logger, outcomes: outcomes, limits: store.DefaultHintLimits,
		receivers: receivers{load: st.WebhookReceivers, now: time.Now},
		recent:    recentHints{seen: map[hintKey]time.Time{}, max: 50_000, window: store.DefaultHintLimits.RepeatAfter}}
}

// refuse answers as for an unknown channel, without reading the body.
func (h *receiver) refuse(w http.ResponseWriter, _ *http.Request) {
	h.outcomes("refused")
	http.Error(w, refusedBody, http.StatusNotFound)
}

func (h *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("channel")
	rc, ok, err := h.receivers.find(r.Context(), name, r.PathValue("token"))
	if err != nil {
		h.outcomes("unavailable")
		h.logger.Warn("webhook: could not read the channels", "err", err)
		http.Error(w, "temporarily unavailable", http.StatusServiceUnavailable) // EKM will retry
		return
	}
	if !ok {
		h.refuse(w, r)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, webhookBodyLimit))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		h.outcomes("too_large")
		http.Error(w, fmt.Sprintf("body over the webhook limit of %d bytes", webhookBodyLimit), http.StatusRequestEntityTooLarge)
		return
	}
	var ev ekm.WebhookEvent
	if err != nil || json.Unmarshal(body, &ev) != nil || ev.EntityID <= 0 {
		h.outcomes("malformed")
		http.Error(w, "want a JSON body with a positive entity_id", http.StatusBadRequest)
		return
	}
	if rc.ShopUsername == "" || !strings.EqualFold(ev.Username, rc.ShopUsername) {
		h.refuse(w, r)
		return
	}
	if !slices.Contains(webhook.Topics, ev.Topic) {
		h.outcomes("topic")
		http.Error(w, "only order.created and order.updated are accepted", http.StatusBadRequest)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 4*time.Second) // EKM waits 5 s
	defer cancel()
	key := hintKey{rc.ChannelID, ev.EntityID}
	if !h.recent.add(key, time.Now()) {
		h.outcomes("duplicate")
		w.WriteHeader(http.StatusAccepted)
		return
	}
	claimed, err := h.st.ClaimWebhookHint(ctx, rc.ChannelID, ev.EntityID, h.limits)
	if err != nil {
		h.recent.forget(key)
		h.outcomes("unavailable")
		h.logger.Warn("webhook: could not record the hint", "channel", name, "err", err)
		http.Error(w, "temporarily unavailable", http.StatusServiceUnavailable)
		return
	}
	if !claimed {
		// Handed over lately (by any worker), not found by EKM lately, or over the
		// channel's hints a minute: the window sync catches a change meanwhile.
		h.outcomes("duplicate")
		w.WriteHeader(http.StatusAccepted)
		return
	}
	if h.fetches.fetch(ctx, name, ev.EntityID) {
		h.outcomes("fetched")
		w.WriteHeader(http.StatusAccepted)
		return
	}
	err = h.wf.Client.SignalWorkflow(ctx, workflows.OrderSyncID(name), "", workflows.SignalOrderHint, workflows.OrderHint{OrderID: ev.EntityID})
	var notFound *serviceerror.NotFound
	switch {
	case errors.As(err, &notFound):
		// The loop does not run (channel removed or never started): nothing to wake,
		// and a retry would not help.
		h.logger.Warn("webhook for a channel whose order sync does not run", "channel", name, "order_id", ev.EntityID)
	case err != nil:
		h.recent.forget(key)
		_ = h.st.ReleaseWebhookHint(context.WithoutCancel(ctx), rc.ChannelID, ev.EntityID)
		h.outcomes("unavailable")
		h.logger.Warn("webhook: could not signal the order sync", "channel", name, "err", err)
		http.Error(w, "temporarily unavailable", http.StatusServiceUnavailable)
		return
	}
	h.outcomes("signalled")
	w.WriteHeader(http.StatusAccepted)
}

// withFetch makes the receiver fetch hinted orders into the hub itself, at most
// slots fetches at a time (0: never), until ctx ends.
func (h *receiver) withFetch(ctx context.Context, slots int, fetch orderFetch) *receiver {
	if slots > 0 {
		h.fetches = newOrderFetches(ctx, slots, fetch, h.logger)
	}
	return h
}

// receivers is the receiver's snapshot of the channels and their token hashes.
type receivers struct {
	load func(context.Context) ([]store.WebhookReceiver, error)
	now  func() time.Time

	mu     sync.Mutex
	byName map[string]store.WebhookReceiver
	at     time.Time
}

// find returns the channel named name when token is its token.
func (r *receivers) find(ctx context.Context, name, token string) (store.WebhookReceiver, bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byName == nil || r.now().Sub(r.at) >= receiversMaxAge {
		if err := r.reload(ctx); err != nil && r.byName == nil {
			return store.WebhookReceiver{}, false, err
		}
	}
	rc, ok := r.byName[name]
	if !ok || !webhook.Matches(token, rc.TokenHash) {
		if r.now().Sub(r.at) < receiversMinAge {
			return store.WebhookReceiver{}, false, nil
		}
		_ = r.reload(ctx) // on failure the snapshot stays, and is retried in a second
		rc, ok = r.byName[name]
	}
	return rc, ok && webhook.Matches(token, rc.TokenHash), nil
}

func (r *receivers) reload(ctx context.Context) error {
	r.at = r.now()                                         // also on failure: a flood must not retry a failing query at once
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second) // others wait on the lock meanwhile
	defer cancel()
	list, err := r.load(ctx)
	if err != nil {
		return err
	}
	r.byName = make(map[string]store.WebhookReceiver, len(list))
	for _, rc := range list {
		r.byName[rc.Name] = rc
	}
	return nil
}

type hintKey struct{ channelID, orderID int64 }

// recentHints is the in-process pre-filter in front of PostgreSQL's record of
// hints: an id this process saw within window is not looked up again. It holds
// at most max ids.
type recentHints struct {
	mu     sync.Mutex
	seen   map[hintKey]time.Time
	max    int
	window time.Duration
}

// add reports whether k was not seen within the window, and records it.
func (p *recentHints) add(k hintKey, now time.Time) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if at, ok := p.seen[k]; ok && now.Sub(at) < p.window {
		return false
	}
	if len(p.seen) >= p.max {
		for key, at := range p.seen {
			if now.Sub(at) >= p.window {
				delete(p.seen, key)
			}
		}
		if len(p.seen) >= p.max {
			clear(p.seen) // a flood of distinct ids: PostgreSQL still deduplicates
		}
	}
	p.seen[k] = now
	return true
}

func (p *recentHints) forget(k hintKey) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.seen, k)
}

// pruneHints deletes old hint records every ten minutes.
func pruneHints(ctx context.Context, st *store.Store, logger *slog.Logger) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := st.PruneWebhookHints(ctx, time.Hour); err != nil && ctx.Err() == nil {
				logger.Warn("could not prune old webhook hints", "err", err)
			}
		}
	}
}
