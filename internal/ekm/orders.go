package ekm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"strconv"
)

// Order endpoints are at v2 (docs/ekm-api.md §4).
const ordersPath = "/api/v2/orders"

// orderPath returns the path of one order, or of sub (e.g. "/items") under it.
func orderPath(id int64, sub string) string {
	return ordersPath + "/" + strconv.FormatInt(id, 10) + sub
}

// DecodeOrder decodes one order and checks the fields the sync cannot do
// without: id ≥ 1, a non-empty order_number and a parseable order_date. Its
// errors are KindInvalidData, so that a caller holding a page of raw orders can
// quarantine the one that is broken and store the rest.
func DecodeOrder(raw json.RawMessage) (Order, error) {
	o, err := decodeJSON[Order](raw)
	if err != nil {
		if e := AsError(err); e != nil {
			e.Kind = KindInvalidData // the page around it was fine
		}
		return Order{}, err
	}
	switch {
	case o.ID < 1:
		err = fmt.Errorf("order id %d is not positive", o.ID)
	case o.OrderNumber == "":
		err = fmt.Errorf("order %d has no order_number", o.ID)
	case o.OrderDate.IsZero():
		err = fmt.Errorf("order %d has no order_date", o.ID)
	}
	if err != nil {
		return Order{}, &Error{Kind: KindInvalidData, Err: err}
	}
	return o, nil
}

// ListOrdersRaw fetches one page of GET /api/v2/orders, keeping each order's JSON.
// That endpoint has no filter or sort; the sync uses SearchOrdersRaw.
func (c *Client) ListOrdersRaw(ctx context.Context, page, limit int) (Page[json.RawMessage], error) {
	return c.rawPage(ctx, ordersPath, pageQuery(page, limit))
}

// ListOrders fetches one page of orders; one malformed order fails the page.
func (c *Client) ListOrders(ctx context.Context, page, limit int) (Page[Order], error) {
	raw, err := c.ListOrdersRaw(ctx, page, limit)
	return typedPage(raw, err, DecodeOrder, ordersPath)
}

// SearchOrdersRaw fetches one page of GET /api/v2/orders/search, keeping each
// order's JSON so that the caller can decode them one by one with DecodeOrder.
func (c *Client) SearchOrdersRaw(ctx context.Context, opts SearchOptions) (Page[json.RawMessage], error) {
	return c.rawPage(ctx, ordersPath+"/search", searchQuery(opts))
}

// SearchOrders fetches one page of an order search; one malformed order fails
// the page.
func (c *Client) SearchOrders(ctx context.Context, opts SearchOptions) (Page[Order], error) {
	raw, err := c.SearchOrdersRaw(ctx, opts)
	return typedPage(raw, err, DecodeOrder, ordersPath+"/search")
}

// OrderSearchPages returns a PageFunc over an order search, for Pages: the sync
// resumes at any page and commits page by page. opts.Page is ignored.
func (c *Client) OrderSearchPages(opts SearchOptions) PageFunc[json.RawMessage] {
	return func(ctx context.Context, page int) (Page[json.RawMessage], error) {
		opts.Page = page
		return c.SearchOrdersRaw(ctx, opts)
	}
}

// AllOrders iterates over every order an order search finds, decoded.
func (c *Client) AllOrders(ctx context.Context, opts SearchOptions) iter.Seq2[Order, error] {
	return Items(ctx, func(ctx context.Context, page int) (Page[Order], error) {
		opts.Page = page
		return c.SearchOrders(ctx, opts)
	})
}

// GetOrderRaw fetches one order's JSON (GET /api/v2/orders/{id}).
func (c *Client) GetOrderRaw(ctx context.Context, id int64) (json.RawMessage, error) {
	return object(ctx, c, request{method: http.MethodGet, path: orderPath(id, "")}, rawData)
}

// GetOrder fetches and decodes one order.
func (c *Client) GetOrder(ctx context.Context, id int64) (Order, error) {
	return object(ctx, c, request{method: http.MethodGet, path: orderPath(id, "")}, DecodeOrder)
}

// OrderItems fetches all the lines of an order (every page of
// GET /api/v2/orders/{id}/items).
func (c *Client) OrderItems(ctx context.Context, id int64) ([]OrderItem, error) {
	return collect(ctx, c, orderPath(id, "/items"), decodeJSON[OrderItem])
}

// UpdateOrderStatus sets an order's status (PUT .../status) and returns the
// updated order. Status is the uppercase status name (ASSUMED, docs/ekm-api.md §6).
func (c *Client) UpdateOrderStatus(ctx context.Context, id int64, u OrderStatusUpdate) (Order, error) {
	if u.Status == "" {
		return Order{}, &Error{Kind: KindBadRequest, Method: http.MethodPut, Path: orderPath(id, "/status"), Err: errors.New("status is required")}
	}
	return c.putOrder(ctx, orderPath(id, "/status"), u)
}

// UpdateDeliveryTracking sets an order's tracking details (PUT
// .../deliveryTracking) and returns the updated order. EKM keeps one tracking
// number per order.
func (c *Client) UpdateDeliveryTracking(ctx context.Context, id int64, t DeliveryTracking) (Order, error) {
	return c.putOrder(ctx, orderPath(id, "/deliveryTracking"), t)
}

// UpdateInternalNotes replaces an order's internal (merchant) notes (PUT
// .../internalNotes; replace rather than append is ASSUMED) and returns the
// updated order. To add a note, send the current notes with it appended.
func (c *Client) UpdateInternalNotes(ctx context.Context, id int64, notes string) (Order, error) {
	return c.putOrder(ctx, orderPath(id, "/internalNotes"), InternalNotes{Notes: notes})
}

// putOrder sends an order update and decodes the order EKM returns. It is not
// resent after an ambiguous failure (a 5xx, a reset, a cut answer: EKM may have
// acted): a status change can e-mail the customer, and the despatch must reach EKM
// exactly once, so the caller reads the order again to learn what EKM shows
// before it tries again. A 429 is still retried: EKM did nothing.
func (c *Client) putOrder(ctx context.Context, path string, body any) (Order, error) {
	return object(ctx, c, request{method: http.MethodPut, path: path, body: body, once: true}, DecodeOrder)
}
