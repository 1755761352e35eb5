package ekm

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
)

// Webhook endpoints are at v2, with EKM's capital W (docs/ekm-api.md §4).
const webhooksPath = "/api/v2/Webhooks"

// CreateWebhook subscribes to a topic (POST /api/v2/Webhooks). It is the one call
// that creates something, so it is not resent after an ambiguous failure (a 5xx
// or a reset may come after EKM created the subscription); list with Webhooks
// before trying again. EKM documents no response body: when there is none, the
// returned subscription has only the fields that were sent.
func (c *Client) CreateWebhook(ctx context.Context, w AddWebhook) (WebhookSubscription, error) {
	r := request{method: http.MethodPost, path: webhooksPath, body: w, once: true, noContent: true}
	return object(ctx, c, r, func(raw json.RawMessage) (WebhookSubscription, error) {
		if len(raw) == 0 || string(raw) == "null" {
			return WebhookSubscription{Topic: w.Topic, Endpoint: w.Endpoint, IsEnabled: w.IsEnabled}, nil
		}
		return decodeJSON[WebhookSubscription](raw)
	})
}

// Webhooks lists the app's subscriptions on the shop (GET
// /api/v2/Webhooks/webhooks).
func (c *Client) Webhooks(ctx context.Context) ([]WebhookSubscription, error) {
	return collect(ctx, c, webhooksPath+"/webhooks", decodeJSON[WebhookSubscription])
}

// DeleteWebhook removes a subscription by its id (a UUID).
func (c *Client) DeleteWebhook(ctx context.Context, id string) error {
	if id == "" {
		return &Error{Kind: KindBadRequest, Method: http.MethodDelete, Path: webhooksPath + "/", Err: errors.New("webhook id is required")}
	}
	_, err := c.call(ctx, request{method: http.MethodDelete, path: webhooksPath + "/" + url.PathEscape(id), noContent: true})
	return err
}
