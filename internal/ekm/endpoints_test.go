package ekm

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestEndpointsSendTheDocumentedRequests checks each method's HTTP method, path
// and body against docs/ekm-api.md §4, and that it decodes the answer.
func TestEndpointsSendTheDocumentedRequests(t *testing.T) {
	product := map[string]any{"id": 3, "name": "Mug", "product_code": "MUG", "price": 9.5}
	variant := map[string]any{"id": 31, "parent_product_id": 3, "price": 10.5}
	cases := []struct {
		name   string
		call   func(c *Client) (any, error)
		method string
		path   string
		body   string // "" for none
		data   any
		check  func(v any) bool
	}{
		{"tracking", func(c *Client) (any, error) {
			return c.UpdateDeliveryTracking(t.Context(), 5, DeliveryTracking{Number: "TN1", Company: "Royal Mail", URL: "https://t/1"})
		}, "PUT", "/api/v2/orders/5/deliveryTracking",
			`{"delivery_tracking_number":"TN1","delivery_tracking_company":"Royal Mail","delivery_tracking_url":"https://t/1"}`,
			sampleOrder(5), func(v any) bool { return v.(Order).ID == 5 }},
		{"notes", func(c *Client) (any, error) { return c.UpdateInternalNotes(t.Context(), 5, "packed") },
			"PUT", "/api/v2/orders/5/internalNotes", `{"notes":"packed"}`, sampleOrder(5), func(v any) bool { return v.(Order).ID == 5 }},
		{"order statuses", func(c *Client) (any, error) { return c.OrderStatuses(t.Context()) },
			"GET", "/api/v1/settings/orderstatuses", "", map[string]any{"statuses": []any{map[string]any{"name": "Dispatched"}}},
			func(v any) bool { return v.([]OrderStatusSetting)[0].Name == "Dispatched" }},
		{"currency", func(c *Client) (any, error) { return c.Currency(t.Context()) },
			"GET", "/api/v1/settings/currency", "", map[string]any{"currency_code": "GBP"},
			func(v any) bool { return v.(CurrencySettings).CurrencyCode == "GBP" }},
		{"search products", func(c *Client) (any, error) {
			return c.SearchProducts(t.Context(), SearchOptions{Query: "product_code eq 'MUG'"})
		}, "GET", "/api/v1/products/search", "", []any{product},
			func(v any) bool { return v.(Page[Product]).Items[0].ProductCode == "MUG" }},
		{"get product", func(c *Client) (any, error) { return c.GetProduct(t.Context(), 3) },
			"GET", "/api/v1/products/3", "", product, func(v any) bool { return v.(Product).Name == "Mug" }},
		{"update product", func(c *Client) (any, error) {
			u := Product{ID: 3, Name: "Mug"}.ToUpdate()
			u.Price = 11
			return c.UpdateProduct(t.Context(), 3, u)
		}, "PUT", "/api/v1/products/3", `"price":11`, product, func(v any) bool { return v.(Product).ID == 3 }},
		{"product stock", func(c *Client) (any, error) { return c.ProductStock(t.Context(), 3) },
			"GET", "/api/v1/products/3/stock", "", map[string]any{"id": 3, "stock": 7, "total_product_stock": 9},
			func(v any) bool { return v.(ProductStock).Stock == 7 }},
		{"set product stock", func(c *Client) (any, error) { return c.SetProductStock(t.Context(), 3, 4) },
			"PUT", "/api/v1/products/3/stock", `{"id":3,"stock":4}`, map[string]any{"id": 3, "stock": 4, "total_product_stock": 4},
			func(v any) bool { return v.(ProductStock).Stock == 4 }},
		{"variants", func(c *Client) (any, error) { return c.Variants(t.Context(), 3) },
			"GET", "/api/v1/products/3/variants", "", []any{variant}, func(v any) bool { return v.([]Variant)[0].ID == 31 }},
		{"update variant", func(c *Client) (any, error) { return c.UpdateVariant(t.Context(), 3, Variant{ID: 31, Price: 10.5}) },
			"PUT", "/api/v1/products/3/variants/31", `"parent_product_id":3`, variant, func(v any) bool { return v.(Variant).Price == 10.5 }},
		{"set variant stock", func(c *Client) (any, error) { return c.SetVariantStock(t.Context(), 3, 31, 6) },
			"PUT", "/api/v1/products/3/variants/31/stock", `{"id":31,"parent_product_id":3,"stock":6}`,
			map[string]any{"id": 31, "parent_product_id": 3, "stock": 6}, func(v any) bool { return v.(VariantStock).Stock == 6 }},
		{"create webhook", func(c *Client) (any, error) {
			return c.CreateWebhook(t.Context(), AddWebhook{Topic: TopicOrderUpdated, Endpoint: "https://h/x", IsEnabled: true})
		}, "POST", "/api/v2/Webhooks", `{"topic":"order.updated","endpoint":"https://h/x","is_enabled":true}`,
			map[string]any{"id": "0d0c", "topic": "order.updated"}, func(v any) bool { return v.(WebhookSubscription).ID == "0d0c" }},
		{"list webhooks", func(c *Client) (any, error) { return c.Webhooks(t.Context()) },
			"GET", "/api/v2/Webhooks/webhooks", "", []any{map[string]any{"id": "0d0c"}},
			func(v any) bool { return v.([]WebhookSubscription)[0].ID == "0d0c" }},
		{"delete webhook", func(c *Client) (any, error) { return nil, c.DeleteWebhook(t.Context(), "0d0c") },
			"DELETE", "/api/v2/Webhooks/0d0c", "", nil, func(any) bool { return true }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var method, path, body string
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				method, path, body = r.Method, r.URL.Path, string(b)
				if tc.data == nil {
					return // 200 without a body, as EKM documents for DELETE
				}
				writeEnvelope(w, 200, tc.data, nil)
			})
			v, err := tc.call(newTestClient(t, h, Config{}))
			if err != nil {
				t.Fatal(err)
			}
			if method != tc.method || path != tc.path {
				t.Errorf("sent %s %s, want %s %s", method, path, tc.method, tc.path)
			}
			if (tc.body == "") != (body == "") || !strings.Contains(body, tc.body) {
				t.Errorf("body = %s, want %s", body, tc.body)
			}
			if !tc.check(v) {
				t.Errorf("decoded %+v", v)
			}
		})
	}
}

func TestUpdateOrderStatusRefusesAnEmptyStatusWithoutCallingEKM(t *testing.T) {
	called := false
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { called = true })
	_, err := newTestClient(t, h, Config{}).UpdateOrderStatus(context.Background(), 5, OrderStatusUpdate{})
	if KindOf(err) != KindBadRequest || called {
		t.Errorf("err = %v, called = %v", err, called)
	}
}
