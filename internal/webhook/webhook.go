// Package webhook holds the per-channel webhook token: EKM signs nothing, so the
// subscription URL carries a random token that only EKM (and the hub, as a hash)
// knows, at /webhooks/ekm/<channel>/<token>. It builds and redacts that URL and
// subscribes a channel's shop to it, replacing the channel's older subscriptions.
package webhook

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/ekmsync/ekmsync/internal/ekm"
)

// PathPrefix is where the worker receives a channel's webhooks:
// PathPrefix + <channel> + "/" + <token>.
const PathPrefix = "/webhooks/ekm/"

// Topics are the topics a channel subscribes to, and the only ones the receiver accepts.
var Topics = []string{ekm.TopicOrderCreated, ekm.TopicOrderUpdated}

// redacted stands for the token in a URL shown to operators.
const redacted = "<token>"

// NewToken returns a random token (256 bits, URL-safe) and its hash, the form
// the hub stores.
func NewToken() (token string, hash []byte) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, Hash(token)
}

// Hash is the stored form of a token: SHA-256, enough for 256 random bits.
func Hash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// Matches reports, in constant time, whether token hashes to hash. A channel
// without a hash matches nothing.
func Matches(token string, hash []byte) bool {
	return len(hash) == sha256.Size && token != "" && subtle.ConstantTimeCompare(Hash(token), hash) == 1
}

// URL is a channel's subscription URL under the worker's public base URL.
func URL(base, channel, token string) string {
	return strings.TrimRight(base, "/") + PathPrefix + channel + "/" + token
}

// Redacted is URL with the token replaced, for 'channel show' and logs.
func Redacted(base, channel string) string { return URL(base, channel, redacted) }

// channelBase returns the base URL of a subscription endpoint that points at
// channel's receiver (with or without a token), and whether it does.
func channelBase(endpoint, channel string) (string, bool) {
	i := strings.LastIndex(endpoint, PathPrefix+channel)
	if i < 0 {
		return "", false
	}
	rest := endpoint[i+len(PathPrefix+channel):]
	if rest != "" && (rest[0] != '/' || strings.Contains(rest[1:], "/")) {
		return "", false
	}
	return endpoint[:i], true
}

// Subscribe subscribes the shop's order topics to the channel's URL with token
// under base, then deletes the app's other subscriptions that point at this
// channel's receiver (the tokenless or older-token ones, which the receiver now
// refuses). It returns the redacted URL.
func Subscribe(ctx context.Context, c *ekm.Client, base, channel, token string) (string, error) {
	endpoint := URL(base, channel, token)
	existing, err := c.Webhooks(ctx)
	if err != nil {
		return "", err
	}
	for _, topic := range Topics {
		found := false
		for _, w := range existing {
			found = found || (w.Topic == topic && w.Endpoint == endpoint && w.IsEnabled)
		}
		if found {
			continue
		}
		if _, err := c.CreateWebhook(ctx, ekm.AddWebhook{Topic: topic, Endpoint: endpoint, IsEnabled: true}); err != nil {
			return "", fmt.Errorf("subscribe %s: %w", topic, err)
		}
	}
	for _, w := range existing {
		if _, ours := channelBase(w.Endpoint, channel); ours && w.Endpoint != endpoint && w.ID != "" {
			if err := c.DeleteWebhook(ctx, w.ID); err != nil {
				return "", fmt.Errorf("delete the older subscription %s: %w", w.ID, err)
			}
		}
	}
	return Redacted(base, channel), nil
}

// SubscribedBase returns the base URL of the app's existing subscriptions for
// channel (from before it had a token), or "" when it has none.
func SubscribedBase(ctx context.Context, c *ekm.Client, channel string) (string, error) {
	existing, err := c.Webhooks(ctx)
	if err != nil {
		return "", err
	}
	for _, w := range existing {
		if base, ok := channelBase(w.Endpoint, channel); ok {
			return base, nil
		}
	}
	return "", nil
}
