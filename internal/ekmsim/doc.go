// Package ekmsim simulates the EKM Partner API (REST, OAuth2) closely enough
// that ekmsync's tests, benchmarks and dev stack can use it in place of a real
// shop: EKM has no sandbox, so this package is the only EKM they ever meet.
//
// The simulator serves the orders (v2), products, stock and variants (v1),
// settings (v1) and webhook (v2) endpoints a sync client needs, EKM's response
// envelope and error bodies, the OAuth2 authorization-code flow with single-use
// refresh tokens, the per-(client, shop) leaky-bucket rate limit, webhook
// delivery with EKM's retry schedule, and seeded faults. An unauthenticated
// admin API under /admin (mirrored by Go methods on Sim) lets tests create and
// change data (and withdraw it: edit an order's lines, delete an order), read
// back every write the shop received and the requests per route, status and
// client, and make the shop hostile (PUT /admin/hostile: a page repeated for
// ever, a stale page, any Retry-After) to test the client's bounds.
//
// Behaviour that EKM does not document is taken from docs/ekm-api.md's ASSUMED
// choices and kept in assumed.go, so it can be found and changed in one place.
//
// In a test, build a shop with New, serve Handler (httptest, or in memory
// through a RoundTripper that calls Handler().ServeHTTP, which also works
// inside a testing/synctest bubble), get a consented token pair with
// IssueTokens, and assert on Writes, RequestCounts and the admin methods.
// For the dev stack, cmd/ekmsim runs DemoOptions on a port.
package ekmsim
