package ekm

import (
	"encoding/json"
	"net/http"
	"testing"
)

// The seed corpora live in testdata/fuzz/<FuzzName>; `go test` runs them as
// regression cases, `go test -fuzz=FuzzDecodeEnvelope` explores from them.

// classified reports whether err is an *Error with a known Kind.
func classified(err error) bool {
	k := KindOf(err)
	_, known := kindNames[k]
	return known
}

// FuzzDecodeEnvelope sends arbitrary 200 bodies through the client's whole
// decoding path (envelope, paging meta, raw items, DecodeOrder; and the typed
// single-order decode): it must never panic, and must give either a value or a
// classified error.
func FuzzDecodeEnvelope(f *testing.F) {
	f.Add([]byte(`{"meta":{"pages_total":2,"items_total":21,"items_per_page":20},"links":[],"validation_result":null,"errors":null,"data":[{"id":1,"order_number":"1/010124/1","order_date":"2024-01-01T10:00:00.0444704Z"}]}`))
	f.Add([]byte(`{"meta":{},"data":{"id":1,"order_number":"A","order_date":"2024-01-01T10:00:00"}}`))
	f.Add([]byte(`{"meta":{"pages_total":{}},"data":[null,1,"x",{"id":-1}]}`))
	f.Add([]byte(`{"errors":{"PlanRestrictionViolation":"7"},"data":null}`))
	f.Add([]byte(`{"meta":{},"data":{"id":1,"order_num`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, body []byte) {
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(body) })
		c := newTestClient(t, h, Config{MaxAttempts: 1, MaxBodyBytes: 1 << 16})
		page, err := c.SearchOrdersRaw(t.Context(), SearchOptions{})
		if err != nil {
			if !classified(err) {
				t.Fatalf("unclassified error %v", err)
			}
		} else {
			if page.Number != 1 || page.Meta.PagesTotal < 0 {
				t.Fatalf("page %+v", page)
			}
			for _, raw := range page.Items {
				checkDecodeOrder(t, raw)
			}
		}
		if _, err := c.GetOrder(t.Context(), 1); err != nil && !classified(err) {
			t.Fatalf("unclassified error %v", err)
		}
	})
}

// FuzzDecodeOrder feeds arbitrary JSON to DecodeOrder.
func FuzzDecodeOrder(f *testing.F) {
	f.Add([]byte(`{"id":1,"order_number":"1/010124/1","order_date":"2024-01-01T10:00:00.0444704Z","order_type":"","status":"PENDING"}`))
	f.Add([]byte(`{"id":0,"order_number":null,"order_date":"2024-13-01T10:00:00Z"}`))
	f.Add([]byte(`{"id":9223372036854775807,"order_number":"x","order_date":"2024-01-01T10:00:00","last_updated":null,"delivery_includes_tax":3000000000}`))
	f.Add([]byte(`{"id":"1"}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		checkDecodeOrder(t, raw)
	})
}

// checkDecodeOrder asserts DecodeOrder's contract on raw.
func checkDecodeOrder(t *testing.T, raw []byte) {
	t.Helper()
	o, err := DecodeOrder(json.RawMessage(raw))
	if err != nil {
		if KindOf(err) != KindInvalidData {
			t.Fatalf("DecodeOrder(%q) error %v is not invalid data", raw, err)
		}
		return
	}
	if o.ID < 1 || o.OrderNumber == "" || o.OrderDate.IsZero() {
		t.Fatalf("DecodeOrder(%q) accepted %+v", raw, o)
	}
}
