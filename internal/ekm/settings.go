package ekm

import (
	"context"
	"net/http"
)

// Settings endpoints are at v1 (docs/ekm-api.md §4).
const (
	orderStatusesPath = "/api/v1/settings/orderstatuses"
	currencyPath      = "/api/v1/settings/currency"
)

// OrderStatuses returns the shop's order statuses, which the channel maps onto
// Paid, Unpaid, Shipped and Cancelled.
func (c *Client) OrderStatuses(ctx context.Context) ([]OrderStatusSetting, error) {
	s, err := object(ctx, c, request{method: http.MethodGet, path: orderStatusesPath}, decodeJSON[OrderStatuses])
	return s.Statuses, err
}

// Currency returns the shop's currency settings. It is also the cheapest
// authenticated call, which the channel's "Test" uses to check the credentials.
func (c *Client) Currency(ctx context.Context) (CurrencySettings, error) {
	return object(ctx, c, request{method: http.MethodGet, path: currencyPath}, decodeJSON[CurrencySettings])
}
