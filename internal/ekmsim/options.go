package ekmsim

import (
	"log/slog"
	"net/http"
	"time"
)

// Options configures a simulated shop. The zero value is a valid, empty shop
// with no faults; New fills the documented defaults.
type Options struct {
	// Seed makes the data, the faults and the webhook duplicates repeat: two
	// simulators built from equal options serve equal shops.
	Seed int64
	// Products is the catalogue size (master products, not counting variants).
	Products int
	// VariantShare is the share of products with variants (e.g. 0.3); each
	// such product has 2 to 4 variants.
	VariantShare float64
	// SKUProblems is how many listings (products or variants) get an empty or
	// a duplicate SKU, roughly half each.
	SKUProblems int
	// Orders is how many orders are seeded, across every shop status, every
	// payment state and order dates in the last 60 days.
	Orders int
	// ShopUsername is the merchant's username, the JWT sub; default "demo-shop".
	ShopUsername string
	// ClientID and ClientSecret are the demo OAuth client's credentials;
	// defaults "ekmsim-demo-client" and "ekmsim-demo-secret".
	ClientID, ClientSecret string
	// AutoApprove makes /connect/authorize redirect straight to redirect_uri
	// with a code, instead of showing a consent page.
	AutoApprove bool
	// BucketSize is the leaky bucket size per (client, shop); default 40.
	BucketSize int
	// LeakPerSecond is how many requests leak out of a bucket per second; default 2.
	LeakPerSecond float64
	// AccessTokenTTL is the access tokens' lifetime; default 1 h. Tests may set
	// it down to seconds.
	AccessTokenTTL time.Duration
	// RefreshTokenTTL is the refresh tokens' sliding lifetime: a refresh token
	// expires this long after it was issued, and each use issues a new one;
	// default 15 days.
	RefreshTokenTTL time.Duration
	// Faults are the fault probabilities; all default 0.
	Faults Faults
	// OrderEvery, if > 0, makes a new realistic order arrive every interval
	// once background jobs run (Start or StartJobs), so a demo shop keeps
	// receiving orders.
	OrderEvery time.Duration
	// WebhookDuplicateRate is the chance that a webhook event is delivered
	// twice, as EKM warns it may be. The zero value means no duplicates, so a
	// test only sees them when it asks; DemoOptions sets 0.05.
	WebhookDuplicateRate float64
	// WebhookClient delivers webhook events; default a plain http.Client. Each
	// attempt is bounded by EKM's 5 s wait whatever the client's own timeout.
	// Tests inside testing/synctest set one with an in-memory transport.
	WebhookClient *http.Client
	// Now is the clock; default time.Now (inside testing/synctest that is the
	// bubble's fake clock).
	Now func() time.Time
	// Logger receives the simulator's logs; default discards them.
	Logger *slog.Logger
}

// Faults are independent probabilities (0 to 1) of faults injected into /api/*
// responses, drawn from a seeded generator so that a run repeats. A faulted
// request has already passed authentication and cost a rate-limit token. In
// JSON (PUT /admin/faults) the fields are snake_case and latency_duration is
// a duration string such as "250ms".
type Faults struct {
	// ServerError is the chance of a 500, 502 or 503 (equal thirds); the
	// request is not processed.
	ServerError float64
	// RateLimitBurst is the chance that a burst of 429s starts; a burst
	// answers 429 to this and the next 2 to 9 API requests (3 to 10 in all).
	RateLimitBurst float64
	// Latency is the chance that LatencyDuration is added before the
	// response; it combines with the other faults.
	Latency float64
	// LatencyDuration is the latency added when Latency fires.
	LatencyDuration time.Duration
	// ConnReset is the chance that the connection is closed without a
	// response; the request is not processed.
	ConnReset float64
	// Malformed is the chance of a 200 whose body is cut in half (Content-Length
	// matching the cut body), so the JSON does not parse. The request IS
	// processed: a write may have happened although the client cannot tell.
	Malformed float64
	// Truncated is the chance of a 200 whose Content-Length announces the
	// whole body while only half is sent before the connection closes. The
	// request IS processed, as with Malformed.
	Truncated float64
}

// Option defaults.
const (
	defaultShopUsername    = "demo-shop"
	defaultClientID        = "ekmsim-demo-client"
	defaultClientSecret    = "ekmsim-demo-secret"
	defaultBucketSize      = 40
	defaultLeakPerSecond   = 2
	defaultAccessTokenTTL  = time.Hour
	defaultRefreshTokenTTL = 15 * 24 * time.Hour
)

// DemoOptions returns the demo-shop preset that `make dev` runs: 500 products
// (30% with variants, 10 SKU problems), 300 orders, a new order every 30 s,
// auto-approved OAuth consent and EKM-like occasional duplicate webhooks.
func DemoOptions() Options {
	return Options{
		Seed:                 1,
		Products:             500,
		VariantShare:         0.3,
		SKUProblems:          10,
		Orders:               300,
		AutoApprove:          true,
		OrderEvery:           30 * time.Second,
		WebhookDuplicateRate: 0.05,
	}
}

// withDefaults returns o with every unset field given its documented default.
func (o Options) withDefaults() Options {
	if o.ShopUsername == "" {
		o.ShopUsername = defaultShopUsername
	}
	if o.ClientID == "" {
		o.ClientID = defaultClientID
	}
	if o.ClientSecret == "" {
		o.ClientSecret = defaultClientSecret
	}
	if o.BucketSize <= 0 {
		o.BucketSize = defaultBucketSize
	}
	if o.LeakPerSecond <= 0 {
		o.LeakPerSecond = defaultLeakPerSecond
	}
	if o.AccessTokenTTL <= 0 {
		o.AccessTokenTTL = defaultAccessTokenTTL
	}
	if o.RefreshTokenTTL <= 0 {
		o.RefreshTokenTTL = defaultRefreshTokenTTL
	}
	if o.WebhookClient == nil {
		o.WebhookClient = &http.Client{}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}
