package order

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/ekmsync/ekmsync/internal/ekm"
)

// The order search: its date literal and the order of ties are ekm.ODataTime's and
// ekm.KeyAfter's (ASSUMED, docs/ekm-api.md §7).

// Cursor is a position in an order search sorted by (order_date, id): the
// last order read. Paging by cursor rather than by page number means that orders
// arriving, or starting to match, during a sync cannot shift a page boundary and
// be missed, and a resumed run asks for exactly what follows the last committed
// page.
type Cursor struct {
	Date time.Time `json:"date"`
	ID   int64     `json:"id"`
}

// After is the filter for the orders after the cursor.
func (c Cursor) After() string {
	return ekm.KeyAfter("order_date", c.Date, c.ID)
}

// WindowFilter selects a sync's orders: placed since since, or (when updatedSince
// is set) changed on EKM since updatedSince, which folds the last_updated pass
// into the same query at no extra request.
func WindowFilter(since time.Time, updatedSince *time.Time) string {
	f := "order_date ge " + ekm.ODataTime(since)
	if updatedSince != nil {
		f = "(" + f + " or last_updated ge " + ekm.ODataTime(*updatedSince) + ")"
	}
	return f
}

// RangeFilter selects a back-fill's orders: placed in [from, to).
func RangeFilter(from, to time.Time) string {
	return "(order_date ge " + ekm.ODataTime(from) + " and order_date lt " + ekm.ODataTime(to) + ")"
}

// IDFilter is the OData filter for the orders (re-checks, webhook hints) or the
// products (unseen listings) with these ids: up to ekm.MaxPageSize ids fit one
// request.
func IDFilter(ids []int64) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = "id eq " + strconv.FormatInt(id, 10)
	}
	return strings.Join(parts, " or ")
}

// KeyOf reads an order's position from its raw JSON, without the checks of
// DecodeOrder: a page's last order may be malformed elsewhere and still tell
// where the page ended.
func KeyOf(raw json.RawMessage) (Cursor, bool) {
	var k struct {
		ID        int64    `json:"id"`
		OrderDate ekm.Time `json:"order_date"`
	}
	if json.Unmarshal(raw, &k) != nil || k.ID < 1 || k.OrderDate.IsZero() {
		return Cursor{}, false
	}
	return Cursor{Date: k.OrderDate.Time, ID: k.ID}, true
}

// Follows reports whether c comes after prev in (order_date, id) order.
func (c Cursor) Follows(prev Cursor) bool {
	return c.Date.After(prev.Date) || (c.Date.Equal(prev.Date) && c.ID > prev.ID)
}
