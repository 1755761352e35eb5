package ekm

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Kind classifies an EKM failure by what the caller should do about it. Callers
// are Temporal activities: they retry the retryable kinds durably and surface the
// others to the operator.
type Kind int

const (
	// KindRetryable is a transient failure: a 5xx, a network error or connection
	// reset, or a 2xx whose body was truncated, malformed or over the size bound.
	KindRetryable Kind = iota + 1
	// KindRateLimited is a 429 from EKM's leaky bucket; Error.RetryAfter says when
	// there should be room again.
	KindRateLimited
	// KindNeedsReauth means the refresh token is dead (the token endpoint answered
	// invalid_grant, or no refresh token is stored): only the operator can fix it by
	// running the authorisation flow again, so it is never retried.
	KindNeedsReauth
	// KindUnauthorized is a 401 that persisted after one forced token refresh.
	KindUnauthorized
	// KindForbidden is a 403 (the token lacks a scope or consent) or a plan
	// restriction reported in the envelope's errors.
	KindForbidden
	// KindBadRequest is a 400 (EKM's validation messages are in Error.Messages), or
	// any other 4xx this package has no better kind for.
	KindBadRequest
	// KindNotFound is a 404.
	KindNotFound
	// KindUnprocessable is a 422, e.g. a variant id given to a product endpoint.
	KindUnprocessable
	// KindInvalidClient means the token endpoint rejected the client id or secret.
	KindInvalidClient
	// KindInvalidData is a well-formed JSON record that breaks EKM's schema (e.g. an
	// order without an order number). Retrying fetches the same record, so callers
	// quarantine it instead.
	KindInvalidData
)

// kindNames are the stable names of the kinds, used in messages and logs.
var kindNames = map[Kind]string{
	KindRetryable:     "retryable",
	KindRateLimited:   "rate limited",
	KindNeedsReauth:   "needs reauthorisation",
	KindUnauthorized:  "unauthorized",
	KindForbidden:     "forbidden",
	KindBadRequest:    "bad request",
	KindNotFound:      "not found",
	KindUnprocessable: "unprocessable",
	KindInvalidClient: "invalid client",
	KindInvalidData:   "invalid data",
}

// String returns the kind's name as it appears in error messages.
func (k Kind) String() string {
	if name, ok := kindNames[k]; ok {
		return name
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// ErrBodyTooLarge is wrapped by the Error returned when a response body exceeds
// Config.MaxBodyBytes: the body is refused rather than silently cut.
var ErrBodyTooLarge = errors.New("response body exceeds the size bound")

// ErrRetryAfterTooLong is wrapped by the 429 whose Retry-After exceeded
// Config.MaxRetryAfter: its RetryAfter is the cap, and its message names what
// EKM answered.
var ErrRetryAfterTooLong = errors.New("Retry-After beyond the client's cap")

// ErrPageTooLong is wrapped by the error of a list page with more items than
// the limit asked for, or of an item list (an order's items, a product's
// variants) beyond MaxCollectItems or MaxCollectPages.
var ErrPageTooLong = errors.New("more items than the client accepts")

// Error is every failure this package returns for an EKM call, except the error of
// Config.BeforeRequest and a cancelled context, which are returned unchanged.
//
// Error never holds a secret: Path has no query string, messages from the token
// endpoint are redacted, and request headers and bodies are never kept.
type Error struct {
	// Kind says what the caller should do.
	Kind Kind
	// Status is the HTTP status, or 0 when no response was received.
	Status int
	// Method and Path name the request; Path has no query string.
	Method string
	Path   string
	// Messages are EKM's validation_result entries, if the body had any.
	Messages []ValidationError
	// Errors is the envelope's errors map (e.g. PlanRestrictionViolation).
	Errors map[string]string
	// OAuthError is the token endpoint's "error" code, e.g. "invalid_grant".
	OAuthError string
	// RetryAfter is how long to wait before trying again, for KindRateLimited.
	RetryAfter time.Duration
	// Err is the underlying cause, if any.
	Err error
}

// Error describes the failure in one line, e.g.
// "ekm: GET /api/v2/orders/7: not found (HTTP 404): id: Order '7' not found.".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("ekm: ")
	if e.Method != "" || e.Path != "" {
		b.WriteString(strings.TrimSpace(e.Method + " " + e.Path))
		b.WriteString(": ")
	}
	b.WriteString(e.Kind.String())
	if e.Status != 0 {
		fmt.Fprintf(&b, " (HTTP %d)", e.Status)
	}
	if e.OAuthError != "" {
		fmt.Fprintf(&b, ": %s", e.OAuthError)
	}
	for _, m := range e.Messages {
		b.WriteString(": ")
		if len(m.MemberNames) > 0 {
			b.WriteString(strings.Join(m.MemberNames, ","))
			b.WriteString(": ")
		}
		b.WriteString(m.ErrorMessage)
	}
	for _, k := range slices.Sorted(maps.Keys(e.Errors)) {
		fmt.Fprintf(&b, ": %s=%s", k, e.Errors[k])
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the underlying cause so that errors.Is finds, for example,
// ErrBodyTooLarge or context.DeadlineExceeded.
func (e *Error) Unwrap() error { return e.Err }

// AsError returns the *Error in err's chain, or nil if there is none.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// KindOf returns the Kind of the *Error in err's chain, or 0 if there is none.
func KindOf(err error) Kind {
	if e := AsError(err); e != nil {
		return e.Kind
	}
	return 0
}

// IsRetryable reports whether a later attempt may succeed without the operator
// doing anything: KindRetryable and KindRateLimited.
func IsRetryable(err error) bool {
	k := KindOf(err)
	return k == KindRetryable || k == KindRateLimited
}

// IsNeedsReauth reports whether the channel must be authorised again by the
// operator (KindNeedsReauth).
func IsNeedsReauth(err error) bool { return KindOf(err) == KindNeedsReauth }

// RetryAfter returns the wait carried by a KindRateLimited error, or 0.
func RetryAfter(err error) time.Duration {
	if e := AsError(err); e != nil && e.Kind == KindRateLimited {
		return e.RetryAfter
	}
	return 0
}

// statusKinds maps the HTTP statuses of API responses that have a kind of their
// own; see kindForStatus for the rest.
var statusKinds = map[int]Kind{
	400: KindBadRequest,
	401: KindUnauthorized,
	403: KindForbidden,
	404: KindNotFound,
	408: KindRetryable, // a timeout is as transient as a server error
	422: KindUnprocessable,
	425: KindRetryable,
	429: KindRateLimited,
}

// kindForStatus maps a non-2xx HTTP status of an API response to a Kind: 5xx is
// retryable, and any other 4xx is a bad request. 3xx cannot reach here because
// http.Client follows redirects.
func kindForStatus(status int) Kind {
	if k, ok := statusKinds[status]; ok {
		return k
	}
	if status >= 500 {
		return KindRetryable
	}
	return KindBadRequest
}
