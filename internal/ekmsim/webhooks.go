package ekmsim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/ekmsync/ekmsync/internal/ekm"
)

// Webhooks v2: an app subscribes an endpoint to a topic; on each matching
// event EKM POSTs {"username","topic","entity_id"}, waits 5 s for a 200 and
// otherwise retries 20 times, 200 ms × 1.97^n apart; duplicates happen
// ([SW] POST /api/v2/Webhooks).

// EKM's documented delivery schedule.
const (
	webhookTimeout    = 5 * time.Second
	webhookRetries    = 20
	webhookFirstDelay = 200 * time.Millisecond
	webhookBackoff    = 1.97
)

// webhookDelay is the wait before retry n (1-based): 200 ms × 1.97^(n-1).
func webhookDelay(n int) time.Duration {
	return time.Duration(float64(webhookFirstDelay) * math.Pow(webhookBackoff, float64(n-1)))
}

// topics are the webhook topics EKM offers.
var topics = []string{ekm.TopicOrderCreated, ekm.TopicOrderUpdated}

// validateSubscription checks a subscription body (ASSUMED rules and
// messages, see assumed.go).
func validateSubscription(req *ekm.AddWebhook) *apiError {
	if !slices.Contains(topics, req.Topic) {
		return badRequest([]string{"topic"}, fmt.Sprintf("The topic '%s' is not supported.", req.Topic))
	}
	u, err := url.Parse(req.Endpoint)
	if err != nil || !u.IsAbs() || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return badRequest([]string{"endpoint"}, "The endpoint must be an absolute http or https URL.")
	}
	return nil
}

// createWebhook serves POST /api/v2/Webhooks: 201 with the subscription.
func (s *Sim) createWebhook(w http.ResponseWriter, r *http.Request) {
	req, body, ok := decodeBody(w, r, validateSubscription)
	if !ok {
		return
	}
	c := claimsFrom(r)
	sub := ekm.WebhookSubscription{
		ID: s.hookRNG.uuid(), Topic: req.Topic, MerchantUsername: c.Subject, ClientID: c.ClientID,
		Endpoint: req.Endpoint, IsEnabled: req.IsEnabled,
	}
	s.mu.Lock()
	s.st.subs = append(s.st.subs, sub)
	s.mu.Unlock()
	s.record(r, KindWebhookCreate, body, Write{})
	writeData(w, http.StatusCreated, sub)
}

// listWebhooks serves GET /api/v2/Webhooks/webhooks: the calling client's
// subscriptions on one page.
func (s *Sim) listWebhooks(w http.ResponseWriter, r *http.Request) {
	c := claimsFrom(r)
	s.mu.RLock()
	subs := slices.Collect(func(yield func(ekm.WebhookSubscription) bool) {
		for _, sub := range s.st.subs {
			if sub.ClientID == c.ClientID && !yield(sub) {
				return
			}
		}
	})
	s.mu.RUnlock()
	writeAll(w, r, subs)
}

// getWebhook serves GET /api/v2/Webhooks/{id}.
func (s *Sim) getWebhook(w http.ResponseWriter, r *http.Request) {
	sub, aerr := lookup(s, subscriptionAt(r), func(i int) ekm.WebhookSubscription { return s.st.subs[i] })
	answer(w, sub, aerr)
}

// putWebhook serves PUT /api/v2/Webhooks/{id}: topic, endpoint and
// is_enabled are replaced (ASSUMED, see assumed.go).
func (s *Sim) putWebhook(w http.ResponseWriter, r *http.Request) {
	// V2UpdateWebhookSubscription has the same fields as V2AddWebhookSubscription.
	req, body, ok := decodeBody(w, r, validateSubscription)
	if !ok {
		return
	}
	sub, aerr := mutate(s, subscriptionAt(r), func(i int) (ekm.WebhookSubscription, *apiError) {
		sub := s.st.subs[i]
		sub.Topic, sub.Endpoint, sub.IsEnabled = req.Topic, req.Endpoint, req.IsEnabled
		s.st.subs[i] = sub
		return sub, nil
	})
	if aerr == nil {
		s.record(r, KindWebhookUpdate, body, Write{})
	}
	answer(w, sub, aerr)
}

// deleteWebhook serves DELETE /api/v2/Webhooks/{id}: 200 with the removed
// subscription.
func (s *Sim) deleteWebhook(w http.ResponseWriter, r *http.Request) {
	sub, aerr := mutate(s, subscriptionAt(r), func(i int) (ekm.WebhookSubscription, *apiError) {
		sub := s.st.subs[i]
		s.st.subs = slices.Delete(slices.Clone(s.st.subs), i, i+1)
		return sub, nil
	})
	if aerr == nil {
		s.record(r, KindWebhookDelete, nil, Write{})
	}
	answer(w, sub, aerr)
}

// subscriptionAt finds the index of the calling client's subscription the
// request's {id} names.
func subscriptionAt(r *http.Request) func(*store) (int, *apiError) {
	return func(st *store) (int, *apiError) {
		c, id := claimsFrom(r), r.PathValue("id")
		i := slices.IndexFunc(st.subs, func(sub ekm.WebhookSubscription) bool {
			return sub.ID == id && sub.ClientID == c.ClientID
		})
		if i < 0 {
			return 0, notFound(subscriptionEntity, id)
		}
		return i, nil
	}
}

// notifyOrder delivers an order event to every enabled subscription of the
// topic, in the background; with WebhookDuplicateRate a delivery is made twice.
func (s *Sim) notifyOrder(topic string, orderID int64) {
	s.mu.RLock()
	var endpoints []string
	for _, sub := range s.st.subs {
		if sub.IsEnabled && sub.Topic == topic {
			endpoints = append(endpoints, sub.Endpoint)
		}
	}
	s.mu.RUnlock()
	body, err := json.Marshal(ekm.WebhookEvent{Username: s.opts.ShopUsername, Topic: topic, EntityID: orderID})
	if err != nil {
		s.log.Error("encoding webhook", "err", err)
		return
	}
	for _, endpoint := range endpoints {
		copies := 1
		if s.hookRNG.chance(s.opts.WebhookDuplicateRate) {
			copies = 2
		}
		for range copies {
			s.spawn(func(ctx context.Context) { s.deliver(ctx, endpoint, topic, orderID, body) })
		}
	}
}

// deliver POSTs one event until the endpoint answers 2xx within 5 s, or the
// retries run out, or the simulator closes.
func (s *Sim) deliver(ctx context.Context, endpoint, topic string, orderID int64, body []byte) {
	log := s.log.With("endpoint", endpoint, "topic", topic, "entity_id", orderID)
	for attempt := 0; attempt <= webhookRetries; attempt++ {
		if attempt > 0 {
			if err := sleepCtx(ctx, webhookDelay(attempt)); err != nil {
				return
			}
		}
		status, err := s.post(ctx, endpoint, body)
		if err == nil && status >= 200 && status < 300 {
			log.Debug("webhook delivered", "attempt", attempt+1)
			return
		}
		if ctx.Err() != nil {
			return
		}
		log.Debug("webhook attempt failed", "attempt", attempt+1, "status", status, "err", err)
	}
	log.Warn("webhook given up", "attempts", webhookRetries+1)
}

// post makes one delivery attempt bounded by EKM's 5 s wait.
func (s *Sim) post(ctx context.Context, endpoint string, body []byte) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, webhookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("ekmsim: webhook request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "ekmsim-webhooks")
	resp, err := s.opts.WebhookClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("ekmsim: webhook post: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	return resp.StatusCode, nil
}

// Subscriptions returns every app's webhook subscriptions, as EKM holds them
// (tests read the URL a channel subscribed with, token included).
func (s *Sim) Subscriptions() []ekm.WebhookSubscription {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.Clone(s.st.subs)
}
