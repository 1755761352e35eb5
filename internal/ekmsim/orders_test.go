package ekmsim

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ekmsync/ekmsync/internal/ekm"
)

// searchAll pages through an orders search and returns every order.
func searchAll(t *testing.T, c *tclient, query, orderby string) []ekm.Order {
	t.Helper()
	var all []ekm.Order
	for page := 1; ; page++ {
		r := c.get("/api/v2/orders/search?limit=20&page="+strconv.Itoa(page)+
			"&query="+urlQuery(query)+"&orderby="+urlQuery(orderby)).want(t, http.StatusOK)
		all = append(all, data[[]ekm.Order](t, r)...)
		if page >= r.listMeta(t).PagesTotal {
			return all
		}
	}
}

func TestOrdersSearchByStatusIsCaseInsensitive(t *testing.T) {
	sim := New(smallShop())
	defer sim.Close()
	c := newClient(t, sim)
	want := 0
	for _, o := range sim.Orders() {
		if o.Status == "PROCESSING" {
			want++
		}
	}
	if want == 0 {
		t.Fatal("seed has no PROCESSING order")
	}
	for _, q := range []string{"status eq 'PROCESSING'", "status eq 'processing'", "STATUS EQ 'Processing'"} {
		if q == "STATUS EQ 'Processing'" {
			// field names are EKM's snake_case; only keywords are case-insensitive
			c.get("/api/v2/orders/search?query="+urlQuery(q)).wantValidation(t, http.StatusBadRequest, nil, "Invalid search expression")
			continue
		}
		got := searchAll(t, c, q, "")
		if len(got) != want {
			t.Errorf("%q: %d orders, want %d", q, len(got), want)
		}
		for _, o := range got {
			if o.Status != "PROCESSING" {
				t.Errorf("%q returned status %s", q, o.Status)
			}
		}
	}
}

func TestOrdersSearchDateRangeAndOrderBy(t *testing.T) {
	sim := New(smallShop())
	defer sim.Close()
	c := newClient(t, sim)
	orders := sim.Orders()
	from, to := orders[20].OrderDate.Time, orders[50].OrderDate.Time
	lit := func(tm time.Time) string { return tm.UTC().Format("2006-01-02T15:04:05.0000000Z") }

	for _, q := range []string{
		"order_date ge datetime'" + lit(from) + "' and order_date lt datetime'" + lit(to) + "'",
		"order_date ge datetimeoffset'" + lit(from) + "' and order_date lt '" + lit(to) + "'",
		"(order_date ge '" + lit(from) + "') AND NOT (order_date ge '" + lit(to) + "')",
	} {
		got := searchAll(t, c, q, "order_date")
		if len(got) != 30 {
			t.Fatalf("%q: %d orders, want the 30 from index 20 to 49", q, len(got))
		}
		for i, o := range got {
			if o.ID != orders[20+i].ID {
				t.Fatalf("%q: result %d is order %d, want %d (ascending order_date)", q, i, o.ID, orders[20+i].ID)
			}
		}
	}

	desc := searchAll(t, c, "order_date ge '"+lit(from)+"'", "-order_date")
	if len(desc) != 60 || desc[0].ID != orders[79].ID || desc[59].ID != orders[20].ID {
		t.Errorf("-order_date: %d orders from %d to %d, want 60 from %d down to %d",
			len(desc), desc[0].ID, desc[len(desc)-1].ID, orders[79].ID, orders[20].ID)
	}
	if !slices.IsSortedFunc(desc, func(a, b ekm.Order) int { return b.OrderDate.Compare(a.OrderDate.Time) }) {
		t.Error("-order_date results are not in descending order_date")
	}
}

func TestOrdersOrderByTiesBreakOnID(t *testing.T) {
	sim := New(smallShop())
	defer sim.Close()
	c := newClient(t, sim)
	got := searchAll(t, c, "", "status")
	if len(got) != 80 {
		t.Fatalf("%d orders, want all 80", len(got))
	}
	for i := 1; i < len(got); i++ {
		a, b := got[i-1], got[i]
		if a.Status > b.Status || (a.Status == b.Status && a.ID > b.ID) {
			t.Fatalf("orderby=status not sorted by (status, id) at %d: %s/%d then %s/%d", i, a.Status, a.ID, b.Status, b.ID)
		}
	}
	rev := searchAll(t, c, "", "-status")
	for i := range rev {
		if rev[i].ID != got[len(got)-1-i].ID {
			t.Fatalf("-status is not the exact reverse of status at %d", i)
		}
	}
}

func TestOrdersSearchByLastUpdatedSeesWrites(t *testing.T) {
	clk := newFakeClock()
	opts := smallShop()
	opts.Now = clk.Now
	sim := New(opts)
	defer sim.Close()
	c := newClient(t, sim)
	mark := clk.Now().Add(time.Second)
	clk.Advance(time.Minute)
	c.put("/api/v2/orders/5/internalNotes", ekm.InternalNotes{Notes: "packed"}).want(t, http.StatusOK)
	got := searchAll(t, c, "last_updated gt datetime'"+mark.Format("2006-01-02T15:04:05")+"'", "-last_updated")
	if len(got) != 1 || got[0].ID != 5 {
		t.Errorf("orders updated after the mark: %v, want only order 5", ids(got))
	}
}

func ids(orders []ekm.Order) []int64 {
	out := make([]int64, len(orders))
	for i, o := range orders {
		out[i] = o.ID
	}
	return out
}

func TestOrdersSearchRejectsBadQueries(t *testing.T) {
	sim := New(smallShop())
	defer sim.Close()
	c := newClient(t, sim)
	for _, q := range []string{
		"status eq", "status = 'PENDING'", "colour eq 'red'", "order_date gt 'yesterday'", "id eq 'one'",
		"status eq 'PENDING' and", "(status eq 'PENDING'", "contains(status,'PEN')", "status eq 'PEN",
	} {
		c.get("/api/v2/orders/search?query="+urlQuery(q)).wantValidation(t, http.StatusBadRequest, nil, "Invalid search expression")
	}
	c.get("/api/v2/orders/search?orderby=colour").wantValidation(t, http.StatusBadRequest, nil, "Invalid search expression")
}

func TestGetOrderAndItems(t *testing.T) {
	sim := New(smallShop())
	defer sim.Close()
	c := newClient(t, sim)
	want, _ := sim.Order(9)
	if got := data[ekm.Order](t, c.get("/api/v2/orders/9").want(t, http.StatusOK)); got.OrderNumber != want.OrderNumber {
		t.Errorf("order 9 number %q, want %q", got.OrderNumber, want.OrderNumber)
	}
	r := c.get("/api/v2/orders/9/items").want(t, http.StatusOK)
	items := data[[]ekm.OrderItem](t, r)
	wantItems, _ := sim.OrderItems(9)
	if len(items) == 0 || len(items) != len(wantItems) {
		t.Fatalf("%d items, want %d", len(items), len(wantItems))
	}
	if meta := r.listMeta(t); meta.PagesTotal != 1 || meta.ItemsTotal != len(items) {
		t.Errorf("items meta %+v, want one page of %d", meta, len(items))
	}
	for _, it := range items {
		if it.OrderID != 9 || it.OrderNumber != want.OrderNumber {
			t.Errorf("item %d belongs to order %d/%s", it.ID, it.OrderID, it.OrderNumber)
		}
	}
	c.get("/api/v2/orders/100000").wantValidation(t, http.StatusNotFound, []string{"id"}, "Order '100000' not found.")
	c.get("/api/v2/orders/abc/items").wantValidation(t, http.StatusNotFound, []string{"id"}, "Order 'abc' not found.")
}

func TestPutOrderStatus(t *testing.T) {
	sim := New(smallShop())
	defer sim.Close()
	c := newClient(t, sim)
	before, _ := sim.Order(4)
	updated := data[ekm.Order](t, c.put("/api/v2/orders/4/status", map[string]any{"status": "dispatched", "email_customer": true}).want(t, http.StatusOK))
	if updated.Status != "DISPATCHED" || !updated.Emailed {
		t.Errorf("status %q emailed %v, want DISPATCHED and emailed", updated.Status, updated.Emailed)
	}
	if !updated.LastUpdated.After(before.LastUpdated.Time) {
		t.Errorf("last_updated %v not after %v", updated.LastUpdated, before.LastUpdated)
	}
	data[ekm.Order](t, c.put("/api/v2/orders/4/status", map[string]any{"status": "Awaiting Stock"}).want(t, http.StatusOK))
	if o, _ := sim.Order(4); o.Status != "AWAITING STOCK" {
		t.Errorf("custom status stored as %q, want AWAITING STOCK", o.Status)
	}

	c.put("/api/v2/orders/4/status", map[string]any{"email_customer": true}).
		wantValidation(t, http.StatusBadRequest, []string{"status"}, "The status field is required.")
	c.put("/api/v2/orders/4/status", map[string]any{"status": "CANCELLED"}).
		wantValidation(t, http.StatusBadRequest, []string{"status"}, unknownStatusMessage("CANCELLED"))
	c.put("/api/v2/orders/4/status", "{not json").wantValidation(t, http.StatusBadRequest, nil, invalidBodyMessage)
	c.put("/api/v2/orders/99999/status", map[string]any{"status": "Complete"}).
		wantValidation(t, http.StatusNotFound, []string{"id"}, "Order '99999' not found.")

	writes := sim.Writes(WriteFilter{OrderID: 4})
	if len(writes) != 2 || writes[0].Kind != KindOrderStatus || writes[0].Method != http.MethodPut ||
		writes[0].Path != "/api/v2/orders/4/status" || string(writes[0].Body) != `{"email_customer":true,"status":"dispatched"}` {
		t.Errorf("writes %+v, want the two successful status PUTs with their bodies", writes)
	}
	if writes[0].ClientID != defaultClientID || writes[0].Time.IsZero() {
		t.Errorf("write lacks client or time: %+v", writes[0])
	}
}

func TestPutTrackingAndNotesReplace(t *testing.T) {
	sim := New(smallShop())
	defer sim.Close()
	c := newClient(t, sim)
	c.put("/api/v2/orders/6/deliveryTracking", ekm.DeliveryTracking{Number: "AB1", Company: "DPD", URL: "https://t/1"}).want(t, http.StatusOK)
	o := data[ekm.Order](t, c.put("/api/v2/orders/6/deliveryTracking", map[string]any{"delivery_tracking_number": "AB2"}).want(t, http.StatusOK))
	if o.DeliveryTrackingNumber != "AB2" || o.DeliveryTrackingCompany != "" || o.DeliveryTrackingURL != "" {
		t.Errorf("tracking %q/%q/%q, want AB2 with company and url cleared (replace)", o.DeliveryTrackingNumber, o.DeliveryTrackingCompany, o.DeliveryTrackingURL)
	}
	c.put("/api/v2/orders/6/internalNotes", ekm.InternalNotes{Notes: "first"}).want(t, http.StatusOK)
	o = data[ekm.Order](t, c.put("/api/v2/orders/6/internalNotes", ekm.InternalNotes{Notes: "second"}).want(t, http.StatusOK))
	if o.InternalNotes != "second" {
		t.Errorf("notes %q, want the replacement", o.InternalNotes)
	}
	kinds := []string{}
	for _, w := range sim.Writes(WriteFilter{OrderID: 6}) {
		kinds = append(kinds, w.Kind)
	}
	if strings.Join(kinds, ",") != "order.tracking,order.tracking,order.notes,order.notes" {
		t.Errorf("write kinds %v", kinds)
	}
}
