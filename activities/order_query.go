package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ekmsync/ekmsync/internal/ekm"
)

// The order search: its date literal and the order of ties are ekm.ODataTime's and
// ekm.KeyAfter's (ASSUMED, docs/ekm-api.md §7).

// orderCursor is a position in an order search sorted by (order_date, id): the
// last order read. Paging by cursor rather than by page number means that orders
// arriving, or starting to match, during a sync cannot shift a page boundary and
// be missed, and a resumed run asks for exactly what follows the last committed
// page.
type orderCursor struct {
	Date time.Time `json:"date"`
	ID   int64     `json:"id"`
}

// after is the filter for the orders after the cursor.
func (c orderCursor) after() string {
	return ekm.KeyAfter("order_date", c.Date, c.ID)
}

// windowFilter selects a sync's orders: placed since since, or (when updatedSince
// is set) changed on EKM since updatedSince, which folds the last_updated pass
// into the same query at no extra request.
func windowFilter(since time.Time, updatedSince *time.Time) string {
	f := "order_date ge " + ekm.ODataTime(since)
	if updatedSince != nil {
		f = "(" + f + " or last_updated ge " + ekm.ODataTime(*updatedSince) + ")"
	}
	return f
}

// rangeFilter selects a back-fill's orders: placed in [from, to).
func rangeFilter(from, to time.Time) string {
	return "(order_date ge " + ekm.ODataTime(from) + " and order_date lt " + ekm.ODataTime(to) + ")"
}

// idFilter is the OData filter for the orders (re-checks, webhook hints) or the
// products (unseen listings) with these ids: up to ekm.MaxPageSize ids fit one
// request.
func idFilter(ids []int64) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = "id eq " + strconv.FormatInt(id, 10)
	}
	return strings.Join(parts, " or ")
}

// keyOf reads an order's position from its raw JSON, without the checks of
// DecodeOrder: a page's last order may be malformed elsewhere and still tell
// where the page ended.
func keyOf(raw json.RawMessage) (orderCursor, bool) {
	var k struct {
		ID        int64    `json:"id"`
		OrderDate ekm.Time `json:"order_date"`
	}
	if json.Unmarshal(raw, &k) != nil || k.ID < 1 || k.OrderDate.IsZero() {
		return orderCursor{}, false
	}
	return orderCursor{Date: k.OrderDate.Time, ID: k.ID}, true
}

// searchPages walks an order search sorted by (order_date, id) from the cursor
// (nil: from the start), calling page with each page's raw orders and the cursor
// at its end. A page without any readable position (every order malformed) is
// stepped over by page number, so it cannot stop the walk.
func searchPages(ctx context.Context, c *ekm.Client, filter string, from *orderCursor,
	page func(raws []json.RawMessage, end *orderCursor) error) error {
	cursor := from
	n, limit := 1, ekm.MaxPageSize
	for {
		q := filter
		if cursor != nil {
			q = filter + " and " + cursor.after()
		}
		p, err := c.SearchOrdersRaw(ctx, ekm.SearchOptions{Query: q, OrderBy: "order_date", Page: n, Limit: limit})
		if errors.Is(err, ekm.ErrBodyTooLarge) && n == 1 && limit > 1 {
			// Large orders: ask for fewer from the same cursor (20, 5, 1), and
			// grow back page by page once past them.
			limit = max(1, limit/4)
			continue
		}
		if errors.Is(err, ekm.ErrBodyTooLarge) && limit == 1 {
			after := "the start of the window"
			if cursor != nil {
				after = fmt.Sprintf("order %d (%s)", cursor.ID, cursor.Date.Format(time.RFC3339))
			}
			return fmt.Errorf("the order after %s is larger than the client's body bound on its own, so the sync cannot "+
				"read past it; ask EKM why: %w", after, err)
		}
		if err != nil {
			return err
		}
		var end *orderCursor
		for i := len(p.Items) - 1; i >= 0 && end == nil; i-- {
			if k, ok := keyOf(p.Items[i]); ok {
				end = &k
			}
		}
		if end != nil && cursor != nil && !end.follows(*cursor) {
			// EKM served orders that are not after the cursor it was asked to
			// pass: the same page again. Asking again would loop for ever.
			return fmt.Errorf("EKM's order search did not advance: asked for orders after order %d (%s), it answered "+
				"page %d of %d ending at order %d (%s); the sync stops here and is retried",
				cursor.ID, cursor.Date.Format(time.RFC3339), n, p.Meta.PagesTotal, end.ID, end.Date.Format(time.RFC3339))
		}
		if len(p.Items) > 0 {
			if err := page(p.Items, end); err != nil {
				return err
			}
		}
		if p.Last() {
			return nil
		}
		switch {
		case end != nil:
			cursor, n, limit = end, 1, min(ekm.MaxPageSize, limit*2)
		case n >= maxUnreadablePages:
			return fmt.Errorf("EKM's order search answered %d pages in a row without one readable order (pages_total %d); "+
				"the sync stops here and is retried", n, p.Meta.PagesTotal)
		default:
			n++
		}
	}
}

// maxUnreadablePages bounds the pages without one readable order that a walk
// steps over by number: a search whose pages all read that way is broken.
const maxUnreadablePages = 50

// follows reports whether c comes after prev in (order_date, id) order.
func (c orderCursor) follows(prev orderCursor) bool {
	return c.Date.After(prev.Date) || (c.Date.Equal(prev.Date) && c.ID > prev.ID)
}

// ordersByID fetches up to ekm.MaxPageSize orders by id (orderRun.byID splits
// longer lists): one GET for a single id, else one search. Orders EKM does not
// have are absent from the result.
func ordersByID(ctx context.Context, c *ekm.Client, ids []int64) ([]json.RawMessage, error) {
	if len(ids) == 1 {
		raw, err := c.GetOrderRaw(ctx, ids[0])
		if ekm.KindOf(err) == ekm.KindNotFound {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return []json.RawMessage{raw}, nil
	}
	p, err := c.SearchOrdersRaw(ctx, ekm.SearchOptions{Query: idFilter(ids), OrderBy: "id", Limit: ekm.MaxPageSize})
	if err != nil {
		return nil, err
	}
	return p.Items, nil
}
