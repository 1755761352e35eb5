// Package ekm is the EKM REST client. It owns everything about talking to EKM:
// the OAuth tokens, paging, the shared rate budget, and the classification of
// failures into what the caller should do. Callers are Temporal activities; they
// see either a value or an *Error whose Kind says whether to retry, wait, or ask
// the operator.
//
// How the pieces fit:
//
//   - Client (client.go) sends one call: the Config.BeforeRequest gate, a token
//     from the TokenSource, one request's worth of the channel's Budget, then the
//     HTTP exchange with a bounded body. It retries retryable failures up to
//     Config.MaxAttempts itself (a short jittered backoff), waits out up to
//     Config.MaxThrottled 429s (each's RetryAfter, through the budget), and
//     answers one 401 with one forced token refresh. Beyond that, Temporal
//     retries durably.
//   - TokenSource (token.go) refreshes ahead of expiry and never runs two
//     refreshes of one channel at once: singleflight in the process, the
//     TokenStore's lock across processes. A dead refresh token is KindNeedsReauth
//     and is never retried.
//   - Budget (budget.go, priority.go) models EKM's leaky bucket (40 requests,
//     leaking 2/s, learnt from the X-EKM-RateLimit-* headers) so that the client
//     does not provoke 429s, and serves callers strictly by Priority: orders,
//     then stock and prices (the default), then the listing download, with small
//     reserves so that an order fetch never queues behind a download. With a
//     SharedBucket (budget_shared.go; store.Store keeps it in PostgreSQL) every
//     process that serves the channel takes each request's token from one
//     bucket, and the reserves order the processes as they order the callers.
//   - Pages and Items (paging.go) walk list and search endpoints up to
//     meta.pages_total (without it, to the first short page), resumable at
//     any page; the Raw variants and DecodeOrder let a caller quarantine one
//     malformed record and keep its page.
//
// Where EKM's documentation is silent the package follows the ASSUMED
// behaviours of docs/ekm-api.md, and says so where it does.
package ekm
