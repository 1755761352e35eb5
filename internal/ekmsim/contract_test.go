package ekmsim

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/ekmsync/ekmsync/internal/ekm"
)

// The contract test validates the simulator's answers against the component
// schemas of EKM's own OpenAPI document (a copy in testdata, so the test does
// not reach outside the repository). Every schema there has
// additionalProperties: false, so an extra field fails as surely as a
// missing or mistyped one.
//
// Two patches, both documented in docs/ekm-api.md §3:
//   - meta: the document types every meta value as an object (an artefact of
//     the C# object type it was generated from), while EKM sends integers
//     (pages_total: 2). meta values are treated as any JSON.
//   - data of error answers: EKM's own examples send "data": null with a
//     validation_result, but the document's data is a non-nullable $ref. For
//     error answers data is made nullable; success answers keep it strict.

var (
	specOnce sync.Once
	spec     *openapi3.T
	specErr  error
)

// loadSpec loads and patches the OpenAPI document once.
func loadSpec(t *testing.T) *openapi3.T {
	t.Helper()
	specOnce.Do(func() {
		openapi3.DefineStringFormatValidator("uuid", openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForUUIDOfRFC9562))
		spec, specErr = openapi3.NewLoader().LoadFromFile("testdata/ekm-openapi.json")
		if specErr != nil {
			return
		}
		anyJSON := true
		for name, ref := range spec.Components.Schemas {
			if meta, ok := ref.Value.Properties["meta"]; ok && strings.HasPrefix(name, "TempestResponse") {
				meta.Value.AdditionalProperties = openapi3.AdditionalProperties{Has: &anyJSON}
			}
		}
	})
	if specErr != nil {
		t.Fatalf("loading the OpenAPI document: %v", specErr)
	}
	return spec
}

// schema returns a component schema; errorAnswer makes its data nullable.
func schema(t *testing.T, name string, errorAnswer bool) *openapi3.Schema {
	t.Helper()
	ref, ok := loadSpec(t).Components.Schemas[name]
	if !ok {
		t.Fatalf("no component schema %s", name)
	}
	s := ref.Value
	if !errorAnswer {
		return s
	}
	cp := *s
	cp.Properties = maps.Clone(s.Properties)
	d := *s.Properties["data"].Value
	d.Nullable = true
	cp.Properties["data"] = openapi3.NewSchemaRef("", &d)
	return &cp
}

// validate checks a JSON body against a schema.
func validate(t *testing.T, what string, body []byte, s *openapi3.Schema) {
	t.Helper()
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("%s: body is not JSON: %v", what, err)
	}
	if err := s.VisitJSON(v, openapi3.MultiErrors(), openapi3.VisitAsResponse()); err != nil {
		t.Errorf("%s does not match its schema: %v\nbody: %.600s", what, err, body)
	}
}

// contractCase is one request and the schema its answer must match.
type contractCase struct {
	method, path string
	body         any
	status       int
	schema       string
}

func TestContractAgainstOpenAPISchemas(t *testing.T) {
	opts := smallShop()
	opts.Orders, opts.Products = 150, 80
	sim := New(opts)
	defer sim.Close()
	sim.SetRateLimit(100000, 1000)
	c := newClient(t, sim)
	withV, plain := productWithVariants(t, sim)
	v := withV.Variants[0]
	pid, wid, vid := itoa(plain.ID), itoa(withV.ID), itoa(v.ID)

	var cases []contractCase
	for page := 1; page <= 8; page++ { // every order, across every status and payment state
		cases = append(cases, contractCase{"GET", "/api/v2/orders?page=" + strconv.Itoa(page), nil, 200, "TempestResponseListV2Order"})
	}
	for id := 1; id <= 150; id += 7 {
		cases = append(cases,
			contractCase{"GET", "/api/v2/orders/" + strconv.Itoa(id), nil, 200, "TempestResponseV2Order"},
			contractCase{"GET", "/api/v2/orders/" + strconv.Itoa(id) + "/items", nil, 200, "TempestResponseListV2OrderItem"})
	}
	for page := 1; page <= 4; page++ { // every product and variant, with the SKU problems
		cases = append(cases, contractCase{"GET", "/api/v1/products?page=" + strconv.Itoa(page), nil, 200, "TempestResponseListV1Product"})
	}
	cases = append(cases,
		contractCase{"GET", "/api/v2/orders/search?orderby=-order_date&query=" + urlQuery("status eq 'PENDING' or payment_status eq 'FAILED'"), nil, 200, "TempestResponseListV2Order"},
		contractCase{"GET", "/api/v2/orders/search?query=" + urlQuery("id gt 99999"), nil, 200, "TempestResponseListV2Order"},
		contractCase{"PUT", "/api/v2/orders/3/status", ekm.OrderStatusUpdate{Status: "Dispatched"}, 200, "TempestResponseV2Order"},
		contractCase{"PUT", "/api/v2/orders/3/deliveryTracking", ekm.DeliveryTracking{Number: "AB123456789GB", Company: "Royal Mail"}, 200, "TempestResponseV2Order"},
		contractCase{"PUT", "/api/v2/orders/3/internalNotes", ekm.InternalNotes{Notes: "Packed by Sam"}, 200, "TempestResponseV2Order"},
		contractCase{"GET", "/api/v1/settings/orderstatuses", nil, 200, "TempestResponseV1OrderStatuses"},
		contractCase{"GET", "/api/v1/settings/currency", nil, 200, "TempestResponseCurrencySettings"},
		contractCase{"GET", "/api/v1/products/search?query=" + urlQuery("live eq true"), nil, 200, "TempestResponseListV1Product"},
		contractCase{"GET", "/api/v1/products/" + pid, nil, 200, "TempestResponseV1Product"},
		contractCase{"GET", "/api/v1/products/" + wid, nil, 200, "TempestResponseV1Product"},
		contractCase{"PUT", "/api/v1/products/" + pid, plain.ToUpdate(), 200, "TempestResponseV1Product"},
		contractCase{"GET", "/api/v1/products/" + wid + "/stock", nil, 200, "TempestResponseV1ProductStock"},
		contractCase{"PUT", "/api/v1/products/" + pid + "/stock", ekm.ProductStock{ID: plain.ID, Stock: 9}, 200, "TempestResponseV1ProductStock"},
		contractCase{"GET", "/api/v1/products/" + wid + "/variants", nil, 200, "TempestResponseListV1ProductVariant"},
		contractCase{"GET", "/api/v1/products/" + pid + "/variants", nil, 200, "TempestResponseListV1ProductVariant"},
		contractCase{"GET", "/api/v1/products/" + wid + "/variants/" + vid, nil, 200, "TempestResponseV1ProductVariant"},
		contractCase{"PUT", "/api/v1/products/" + wid + "/variants/" + vid, v, 200, "TempestResponseV1ProductVariant"},
		contractCase{"GET", "/api/v1/products/" + wid + "/variants/" + vid + "/stock", nil, 200, "TempestResponseV1ProductVariantStock"},
		contractCase{"PUT", "/api/v1/products/" + wid + "/variants/" + vid + "/stock", ekm.VariantStock{ID: v.ID, ParentProductID: withV.ID, Stock: 4}, 200, "TempestResponseV1ProductVariantStock"},
		contractCase{"POST", "/api/v2/Webhooks", ekm.AddWebhook{Topic: ekm.TopicOrderCreated, Endpoint: "https://hooks.test/ekm", IsEnabled: true}, 201, "TempestResponseV2WebhookSubscription"},
		contractCase{"GET", "/api/v2/Webhooks/webhooks", nil, 200, "TempestResponseListV2WebhookSubscription"},

		// Error answers.
		contractCase{"GET", "/api/v2/orders/999999", nil, 404, "TempestResponseTempestValidationError"},
		contractCase{"GET", "/api/v2/orders/search?query=" + urlQuery("status eq"), nil, 400, "TempestResponseListV2Order"},
		contractCase{"GET", "/api/v2/orders?limit=50", nil, 400, "TempestResponseListV2Order"},
		contractCase{"PUT", "/api/v2/orders/3/status", map[string]any{}, 400, "TempestResponseV2Order"},
		contractCase{"PUT", "/api/v2/orders/3/status", ekm.OrderStatusUpdate{Status: "Teleported"}, 400, "TempestResponseV2Order"},
		contractCase{"GET", "/api/v1/products/" + vid, nil, 422, "TempestResponseTempestValidationError"},
		contractCase{"GET", "/api/v1/products/999999", nil, 404, "TempestResponseTempestValidationError"},
		contractCase{"PUT", "/api/v1/products/" + pid, map[string]any{"price": 3}, 400, "TempestResponseV1Product"},
		contractCase{"PUT", "/api/v1/products/" + pid + "/stock", map[string]any{"stock": -1}, 400, "TempestResponseV1Product"},
		contractCase{"PUT", "/api/v1/products/" + wid + "/variants/" + vid + "/stock", map[string]any{}, 400, "TempestResponseV1ProductVariantStock"},
		contractCase{"GET", "/api/v1/products/search", nil, 400, "TempestResponseListV1Product"},
	)
	for _, cc := range cases {
		r := c.do(cc.method, cc.path, cc.body).want(t, cc.status)
		validate(t, fmt.Sprintf("%s %s (%d)", cc.method, cc.path, cc.status), r.body, schema(t, cc.schema, cc.status >= 400))
	}
}

func TestContractRateLimitedAnswer(t *testing.T) {
	sim := New(Options{Seed: 1, BucketSize: 1})
	defer sim.Close()
	c := newClient(t, sim)
	c.get("/api/v1/settings/currency").want(t, http.StatusOK)
	r := c.get("/api/v1/settings/currency").want(t, http.StatusTooManyRequests)
	validate(t, "429", r.body, schema(t, "TempestResponseTempestValidationError", true))
}

// The validator must be able to fail: an extra field, a bad uuid and a
// missing required field are each rejected.
func TestContractValidatorIsStrict(t *testing.T) {
	sim := New(smallShop())
	defer sim.Close()
	o, _ := sim.Order(1)
	s := schema(t, "V2Order", false)
	for name, mutate := range map[string]func(map[string]any){
		"extra field":      func(m map[string]any) { m["currency"] = "GBP" },
		"bad uuid":         func(m map[string]any) { m["guid"] = "not-a-guid" },
		"missing required": func(m map[string]any) { delete(m, "order_number") },
		"bad date-time":    func(m map[string]any) { m["order_date"] = "yesterday" },
		"wrong type":       func(m map[string]any) { m["id"] = "1" },
	} {
		var m map[string]any
		if err := json.Unmarshal(mustJSON(t, o), &m); err != nil {
			t.Fatal(err)
		}
		mutate(m)
		if err := s.VisitJSON(m, openapi3.VisitAsResponse()); err == nil {
			t.Errorf("%s: the validator accepted a broken order", name)
		}
	}
	var m map[string]any
	_ = json.Unmarshal(mustJSON(t, o), &m)
	if err := s.VisitJSON(m, openapi3.VisitAsResponse()); err != nil {
		t.Errorf("the untouched order fails: %v", err)
	}
}
