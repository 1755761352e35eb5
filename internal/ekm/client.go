package ekm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Defaults of Config.
const (
	DefaultMaxBodyBytes = 8 << 20
	DefaultMaxAttempts  = 3
	DefaultMaxThrottled = 10
	// DefaultMaxRetryAfter bounds the wait one 429 imposes: EKM's bucket
	// drains in seconds, so a longer Retry-After is a misbehaving answer, and
	// obeying a day-long one would silence the channel for a day.
	DefaultMaxRetryAfter = 5 * time.Minute
	DefaultUserAgent     = "ekmsync"
)

// Config configures a Client.
type Config struct {
	// BaseURL is the EKM API host, e.g. DefaultBaseURL or a simulator's URL.
	BaseURL string
	// HTTPClient sends the requests; nil means a client with a 60 s timeout.
	HTTPClient *http.Client
	// Tokens supplies the bearer token. Required.
	Tokens TokenSource
	// Budget is the channel's shared rate budget (Budgets.For). Nil means a
	// budget of the client's own with EKM's default bucket, which is right only
	// if this client is the channel's sole user.
	Budget *Budget
	// MaxBodyBytes bounds a response body (default 8 MiB); a longer body is an
	// error, never silently cut.
	MaxBodyBytes int64
	// UserAgent is sent with every request (default "ekmsync").
	UserAgent string
	// MaxAttempts is how many times one call is sent at most for retryable
	// failures (default 3). The retry after a forced token refresh on a 401
	// comes on top. Beyond that, callers (Temporal activities) retry durably.
	MaxAttempts int
	// MaxThrottled is how many 429s one call waits out (each for its
	// Retry-After) before it returns the 429 (default 10). They are not failed
	// attempts: EKM asked to wait, and a burst of them would otherwise fail a
	// long activity that must then start over.
	MaxThrottled int
	// MaxRetryAfter caps the wait of a 429 (default DefaultMaxRetryAfter). A
	// longer Retry-After is not waited out by the call: it returns the 429 at
	// once, with RetryAfter set to the cap and an error naming EKM's answer.
	MaxRetryAfter time.Duration
	// BeforeRequest, if set, runs before every attempt; when it returns an error
	// the request is not sent and that error is returned unchanged. The product
	// uses it to stop every call of a disabled channel at once, and every write
	// to the shop's data of a channel in shadow mode (WritesShop tells them).
	BeforeRequest func(ctx context.Context) error
	// OnForbidden, if set, runs when EKM answers 403 (a scope or consent the
	// token lacks, or a plan restriction): no retry helps, an operator must act.
	// The product records it on the channel, as a rejected refresh token is.
	OnForbidden func(ctx context.Context, err *Error)
	// OnBudgetWait, if set, is told how long each request waited for the rate
	// budget, with its priority (the worker's metrics).
	OnBudgetWait func(p Priority, waited time.Duration)
	// Logger receives one line per retry and per failed call, never a secret.
	// Nil discards.
	Logger *slog.Logger
}

// Client calls EKM's REST API for one channel. It is safe for concurrent use.
type Client struct {
	base   string
	hc     *http.Client
	cfg    Config
	budget *Budget
	log    *slog.Logger
}

// New returns a Client for cfg, filling in the defaults.
func New(cfg Config) *Client {
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 60 * time.Second}
	}
	if cfg.Budget == nil {
		cfg.Budget = NewBudget(DefaultBucketSize, DefaultLeakPerSecond)
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = DefaultUserAgent
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.MaxThrottled <= 0 {
		cfg.MaxThrottled = DefaultMaxThrottled
	}
	if cfg.MaxRetryAfter <= 0 {
		cfg.MaxRetryAfter = DefaultMaxRetryAfter
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Client{
		base:   strings.TrimRight(cfg.BaseURL, "/"),
		hc:     cfg.HTTPClient,
		cfg:    cfg,
		budget: cfg.Budget,
		log:    cfg.Logger,
	}
}

// Budget returns the rate budget the client draws on.
func (c *Client) Budget() *Budget { return c.budget }

// request describes one API call.
type request struct {
	method string
	path   string // without the query string, which never appears in errors
	query  url.Values
	body   any // JSON-encoded when not nil
	// once marks a call that must not be resent after an ambiguous failure
	// (a 5xx or a reset may come after EKM acted): POST creates, order PUTs.
	once bool
	// noContent accepts a 2xx without a body.
	noContent bool
}

// shopWriteKey marks the context of BeforeRequest with whether the request
// writes the shop's data.
type shopWriteKey struct{}

// WritesShop reports, within Config.BeforeRequest, whether the request about to
// be sent writes the shop's orders or products (every such endpoint is a PUT;
// webhook subscriptions and reads are not).
func WritesShop(ctx context.Context) bool {
	w, _ := ctx.Value(shopWriteKey{}).(bool)
	return w
}

// call sends r with the client's retry policy and returns the decoded envelope.
func (c *Client) call(ctx context.Context, r request) (*Envelope, error) {
	var body []byte
	if r.body != nil {
		var err error
		if body, err = json.Marshal(r.body); err != nil {
			return nil, &Error{Kind: KindBadRequest, Method: r.method, Path: r.path, Err: fmt.Errorf("encoding body: %w", err)}
		}
	}
	refreshed, throttled := false, 0
	for attempt := 1; ; {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if c.cfg.BeforeRequest != nil {
			if err := c.cfg.BeforeRequest(context.WithValue(ctx, shopWriteKey{}, r.method == http.MethodPut)); err != nil {
				return nil, err
			}
		}
		token, err := c.cfg.Tokens.Token(ctx)
		if err != nil {
			return nil, err
		}
		env, err := c.send(ctx, r, token, body)
		if err == nil {
			return env, nil
		}
		e := AsError(err)
		if e == nil {
			return nil, err // the context ended
		}
		switch {
		case e.Kind == KindUnauthorized && !refreshed:
			// The token may have been revoked or rotated elsewhere: one forced
			// refresh, and one more try that does not count as an attempt.
			refreshed = true
			if _, err := c.cfg.Tokens.ForceRefresh(ctx, token); err != nil {
				return nil, err
			}
			continue
		case e.Kind == KindRateLimited && throttled < c.cfg.MaxThrottled && !errors.Is(e, ErrRetryAfterTooLong):
			// send has penalised the budget, so the next Acquire waits RetryAfter;
			// don't start a wait that the context cannot outlive.
			if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < e.RetryAfter {
				return nil, e
			}
			throttled++
			c.log.InfoContext(ctx, "ekm: waiting out a 429", "method", r.method, "path", r.path,
				"retry_after", e.RetryAfter, "throttled", throttled)
			continue
		case e.Kind == KindRetryable && attempt < c.cfg.MaxAttempts && !r.once && !errors.Is(e, ErrBodyTooLarge):
			// A body over the bound comes back as large: the caller asks for
			// less (a smaller page) rather than the same again.
			if err := sleep(ctx, backoff(attempt)); err != nil {
				return nil, err
			}
		default:
			c.log.Log(ctx, failureLevel(e.Kind), "ekm: call failed", "method", r.method, "path", r.path,
				"status", e.Status, "kind", e.Kind.String(), "attempts", attempt)
			if e.Kind == KindForbidden && c.cfg.OnForbidden != nil {
				c.cfg.OnForbidden(ctx, e)
			}
			return nil, e
		}
		c.log.InfoContext(ctx, "ekm: retrying", "method", r.method, "path", r.path,
			"status", e.Status, "kind", e.Kind.String(), "attempt", attempt)
		attempt++
	}
}

// failureLevel is the log level of a failed call: a warning when EKM could not
// be used (unreachable, throttled, credentials or scope), debug for an answer
// about the request itself (400, 404, 422), which the caller handles.
func failureLevel(k Kind) slog.Level {
	switch k {
	case KindBadRequest, KindNotFound, KindUnprocessable, KindInvalidData:
		return slog.LevelDebug
	}
	return slog.LevelWarn
}

// send makes one attempt: rate budget, HTTP exchange, classification.
func (c *Client) send(ctx context.Context, r request, token string, body []byte) (*Envelope, error) {
	began := time.Now()
	seq, err := c.budget.acquire(ctx, PriorityFrom(ctx))
	if err != nil {
		return nil, err
	}
	if c.cfg.OnBudgetWait != nil {
		c.cfg.OnBudgetWait(PriorityFrom(ctx), time.Since(began))
	}
	target := c.base + r.path
	if len(r.query) > 0 {
		target += "?" + r.query.Encode()
	}
	var reader *bytes.Reader
	if body != nil {
		reader = bytes.NewReader(body)
	}
	req, err := newRequest(ctx, r.method, target, reader)
	if err != nil {
		c.budget.observe(seq, nil)
		return nil, &Error{Kind: KindBadRequest, Method: r.method, Path: r.path, Err: errors.New("invalid request URL")}
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.cfg.UserAgent)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.budget.observe(seq, nil)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &Error{Kind: KindRetryable, Method: r.method, Path: r.path, Err: transportCause(err)}
	}
	defer resp.Body.Close()
	c.budget.observe(seq, resp.Header)
	raw, readErr := readBounded(resp.Body, c.cfg.MaxBodyBytes)
	if readErr != nil && ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if resp.StatusCode/100 != 2 {
		e := &Error{Kind: kindForStatus(resp.StatusCode), Status: resp.StatusCode, Method: r.method, Path: r.path}
		if env, err := decodeEnvelope(raw); readErr == nil && err == nil {
			e.Messages, e.Errors = env.ValidationResult, env.Errors
		}
		if e.Kind == KindRateLimited {
			e.RetryAfter = retryAfter(resp.Header, time.Now())
			if e.RetryAfter > c.cfg.MaxRetryAfter {
				e.Err = fmt.Errorf("%w: EKM answered Retry-After %q; waiting %s instead", ErrRetryAfterTooLong,
					clip(resp.Header.Get("Retry-After"), 64), c.cfg.MaxRetryAfter)
				e.RetryAfter = c.cfg.MaxRetryAfter
			}
			c.budget.Penalize(e.RetryAfter)
		}
		return nil, e
	}
	fail := &Error{Kind: KindRetryable, Status: resp.StatusCode, Method: r.method, Path: r.path}
	if readErr != nil {
		fail.Err = readErr
		return nil, fail
	}
	if r.noContent && len(bytes.TrimSpace(raw)) == 0 {
		return &Envelope{}, nil
	}
	env, err := decodeEnvelope(raw)
	if err != nil {
		fail.Err = err
		return nil, fail
	}
	if id, ok := env.Errors[planRestriction]; ok {
		// ASSUMED (docs/ekm-api.md §9): a plan restriction may come with a 2xx; the
		// call did not do what was asked, and only the merchant's plan can change
		// that.
		fail.Kind, fail.Errors, fail.Err = KindForbidden, env.Errors, fmt.Errorf("plan restriction %s", id)
		return nil, fail
	}
	return env, nil
}

// planRestriction is the envelope errors key EKM uses when the shop's plan does
// not allow a call.
const planRestriction = "PlanRestrictionViolation"

// newRequest builds an HTTP request; a nil body must be passed as a true nil
// io.Reader so that GETs carry no body.
func newRequest(ctx context.Context, method, target string, body *bytes.Reader) (*http.Request, error) {
	if body == nil {
		return http.NewRequestWithContext(ctx, method, target, nil)
	}
	return http.NewRequestWithContext(ctx, method, target, body)
}

// retryAfter computes the wait after a 429: the Retry-After header if EKM sends
// one (seconds or an HTTP date), else the time the bucket needs to leak one
// request by the rate headers (docs/ekm-api.md §8 says neither is documented; by
// default 1 s / 2 = 0.5 s).
func retryAfter(h http.Header, now time.Time) time.Duration {
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if secs, err := strconv.ParseFloat(v, 64); err == nil && secs >= 0 && !math.IsInf(secs, 0) {
			// Far beyond any cap, yet without overflowing a Duration.
			return time.Duration(min(secs, 1e9) * float64(time.Second))
		}
		if t, err := http.ParseTime(v); err == nil {
			return max(0, t.Sub(now))
		}
	}
	interval, ok := headerFloat(h, headerLeakRate)
	if !ok || interval <= 0 {
		interval = 1
	}
	amount, ok := headerFloat(h, headerLeakAmount)
	if !ok || amount <= 0 {
		amount = DefaultLeakPerSecond
	}
	return time.Duration(interval / amount * float64(time.Second))
}

// clip shortens s to at most n bytes (on a rune boundary), marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = strings.ToValidUTF8(s[:n], "")
	return s + "…"
}

// backoff is the wait before retry number attempt (1-based) of a transient
// failure: exponential from 200 ms, capped at 3 s, with jitter over its upper
// half so that callers that failed together do not come back together.
func backoff(attempt int) time.Duration {
	d := 200 * time.Millisecond << min(attempt-1, 4)
	d = min(d, 3*time.Second)
	return d/2 + rand.N(d/2+1)
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
