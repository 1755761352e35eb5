package ekmsim

import (
	"fmt"
	"time"
)

// This file holds, in one place, every behaviour the simulator takes where
// EKM's sources are silent (docs/ekm-api.md marks them ASSUMED or UNKNOWN). Code
// elsewhere refers to these names instead of repeating the choice, so changing
// a decision here changes it everywhere. Documented facts (limit max 20,
// bucket 40 leaking 2/s, 1 h access tokens, 15-day sliding refresh tokens,
// webhook retry schedule) live next to the code that uses them.

// Paging.
const (
	// ASSUMED: a list request without limit gets EKM's maximum page size.
	defaultLimit = 20
	// maxLimit is EKM's documented maximum page size ([SW] "maximum 20").
	maxLimit = 20
	// ASSUMED: a limit outside 1..20 is refused with 400 rather than clamped,
	// so a client that asks for more than EKM serves notices at once.
	limitRangeMessage = "The field limit must be between 1 and 20."
	// ASSUMED: a page below 1 is refused likewise (pages are 1-based).
	pageRangeMessage = "The field page must be between 1 and 2147483647."
	// ASSUMED: an empty result has pages_total 0, and a page past the end is
	// 200 with an empty data array. The last page carries no "next" link.
	emptyPagesTotal = 0
)

// ASSUMED: when orderby is descending, ties on the field are broken by id
// descending too (search walks the ascending order backwards), which keeps
// paging stable. GET /api/v2/orders and GET /api/v1/products, which take no
// orderby, list in ascending id order. See pageOf and views.

// ASSUMED: endpoints without paging parameters (order items, a product's
// variants, webhook subscriptions) list everything on one page, with
// items_per_page 20 or the count if larger. List links keep the request's
// other query parameters (limit, query, orderby) besides page. See writeAll
// and pageHref.

// notValidMessage is the ASSUMED (ASP.NET model-binding) message for a query
// parameter that is not a number.
func notValidMessage(value, name string) string {
	return fmt.Sprintf("The value '%s' is not valid for %s.", value, name)
}

// Searches.
const (
	// invalidSearchMessage is EKM's documented message for a bad OData query.
	// ASSUMED: an unknown orderby field gets the same message.
	invalidSearchMessage = "Invalid search expression"
	// ASSUMED: products/search without query (documented as required) is a
	// 400 naming the field, in ASP.NET's wording.
	queryRequiredMessage = "The query field is required."
)

// ASSUMED: in searches, keywords (eq, and, true, null, datetime...) are
// case-insensitive but field names are EKM's snake_case names exactly;
// status and payment_status compare case-insensitively, every other string
// (product_code, name, order_number) exactly. An empty string counts as null.
// A date literal without a zone is UTC; date-only and minute-precision forms
// are accepted too. See Fields.Fold and parseDate.

// Orders.
const (
	// ASSUMED: PUT .../internalNotes replaces the notes (it does not append),
	// and PUT .../deliveryTracking replaces all three tracking fields (an
	// absent or null field clears it).
	notesReplace = true
	// ASSUMED: webhooks fire for every order update, including the ones an API
	// client makes itself through the PUT endpoints.
	webhooksOnAPIWrites = true
)

// unknownStatusMessage is the ASSUMED 400 message when PUT .../status names a
// status the shop does not have. Statuses are compared case-insensitively and
// stored in upper case (ASSUMED from EKM's examples, which send DISPATCHED).
func unknownStatusMessage(status string) string {
	return fmt.Sprintf("The status '%s' is not a valid order status for this shop.", status)
}

// ASSUMED: PUT /api/v1/products/{id} treats the body as the full product for
// the fields it carries: a field present in the JSON is set, an absent one
// keeps its value (null keeps a string or number too, as Go's decoder does,
// and clears category_id); name is required whatever else is sent. id,
// total_product_stock and last_modified in a body are not stored (the
// simulator owns them; an id that differs from the path is a 400). The same
// rule applies to PUT .../variants/{variantId}. See mergeBody.

// Products.
const (
	// ASSUMED: total_product_stock is the product's own stock plus the stock
	// of all its variants; PUT .../stock sets only the own stock.
	totalIncludesVariants = true
	// ASSUMED: stock cannot be set below zero (400), so a client that sends a
	// negative quantity is caught in tests.
	negativeStockMessage = "The field stock must be between 0 and 9223372036854775807."
	// ASSUMED: a master product carries parent_product_id 0 (as in EKM's
	// product examples) rather than null; variants carry their parent's id.
	masterParentProductID int64 = 0
	// ASSUMED: a change to a variant (its price, stock or any field, through
	// the API or the shop's admin) moves its master product's last_modified,
	// as a change to the product does: [SW]'s V1ProductVariant has no
	// last_modified of its own, and products/search is the one way to find
	// what changed. The listing refresh relies on it (internal/refresh).
	variantTouchesProduct = true
	// ASSUMED: item_price is the net unit price, item_tax the tax of the whole
	// line, and order totals satisfy
	// total_cost = sub_total + total_delivery + total_tax - discounts_total,
	// with sub_total = sum(item_price * quantity) and delivery priced net.
	standardTaxRate = 20.0
)

// Seeded data.
const (
	// ASSUMED: the demo shop's tax rate ids: 1 is the standard 20% rate, 2 is
	// zero-rated (children's clothing, books).
	taxRateStandard int32 = 1
	taxRateZero     int32 = 2
	// ASSUMED: an order line whose SKU is not in the catalogue (a deleted
	// product) has product_id 0. A line for a variant carries the variant's
	// own id as product_id (variants share the products' id space) and its
	// choice in item_options, e.g. "Size: Large".
	unlistedProductID int64 = 0
)

// variantMessage is EKM's documented 422 message for a variant id given to a
// product endpoint.
func variantMessage(variantID, parentID int64) string {
	return fmt.Sprintf("Product '%d' is a variant. Please use master product Id '%d'", variantID, parentID)
}

// notFoundMessage is EKM's documented 404 message, e.g. "Order '1' not found.".
// ASSUMED: variants and webhook subscriptions use the same wording.
func notFoundMessage(entity, id string) string {
	return fmt.Sprintf("%s '%s' not found.", entity, id)
}

// Bodies.
const (
	// ASSUMED: a body that is not JSON is a 400 envelope with this message.
	invalidBodyMessage = "The request body is not valid JSON."
	// ASSUMED: an id in a PUT body that differs from the id in the path is a 400.
	idMismatchMessage = "The id in the body does not match the id in the path."
)

// Rate limit.
const (
	// ASSUMED: the 429 body is an envelope with this validation message, and
	// a Retry-After header (whole seconds until one request fits) is sent. A
	// test's accelerated bucket (over acceleratedLeak a second) answers with
	// fractions of a second instead.
	rateLimitMessage = "Rate limit exceeded"
	// ASSUMED: X-EKM-RateLimit-LeakRate is the leak interval in seconds; the
	// simulator leaks continuously and reports LeakAmount per such interval
	// (an accelerated bucket: 1 request per 1/leak seconds).
	leakIntervalSeconds = 1
	// ASSUMED: a request refused with 429 does not fill the bucket (EKM
	// answers 429 "until there is room again").
	throttledRequestsFill = false
)

// ASSUMED: a 401 (no valid token) cannot be tied to a (client, shop) bucket,
// so it costs nothing and carries no X-EKM-RateLimit-* headers. Every
// authenticated request costs 1 whatever its outcome (403, 404, an injected
// fault). See Sim.api.

// Errors without a documented body.
const (
	// ASSUMED: 401 and 403 have empty bodies; 401 carries WWW-Authenticate
	// in ASP.NET JwtBearer's form.
	wwwAuthenticateMissing = `Bearer`
	wwwAuthenticateInvalid = `Bearer error="invalid_token"`
	wwwAuthenticateExpired = `Bearer error="invalid_token", error_description="The token expired"`
	// ASSUMED: injected 5xx responses carry a short text/plain body.
	serverErrorBody = "ekmsim: injected server error\n"
)

// OAuth2.
const (
	// ASSUMED: authorization codes live 5 minutes (IdentityServer's default
	// AuthorizationCodeLifetime of 300 s) and are consumed by any exchange
	// attempt, successful or not.
	codeLifetime = 5 * time.Minute
	// ASSUMED: token-endpoint errors are 400 with {"error": "<code>"} and no
	// error_description (RFC 6749 §5.2 codes: invalid_grant, invalid_client,
	// invalid_request, unsupported_grant_type, invalid_scope).
	tokenErrorStatus = 400
	// ASSUMED: presenting a used refresh token fails with invalid_grant but
	// does not revoke the token that replaced it (no reuse detection).
	reuseRevokesFamily = false
	// ASSUMED: the simulator has no registered Return URL, so any absolute
	// http(s) redirect_uri is accepted at /connect/authorize; the token
	// exchange must then present the same one.
	anyRedirectURI = true
)

// Webhooks.
const (
	// ASSUMED: the webhook endpoints need a valid bearer token (to know the
	// client and shop) but no particular scope, as the OpenAPI document
	// lists no security for them.
	webhookScope = ""
	// ASSUMED: a subscription id that does not exist gets a 404 envelope.
	subscriptionEntity = "Subscription"
)

// ASSUMED: POST /api/v2/Webhooks answers 201 with the subscription in an
// envelope, PUT answers it updated and DELETE answers the removed one (the
// OpenAPI document gives these no body). A client sees and changes only its
// own subscriptions. Topics other than order.created and order.updated and
// endpoints that are not absolute http(s) URLs are 400s. A delivery counts
// as received on any 2xx (EKM says 200).
