package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ekmsync/ekmsync/internal/ekm"
	"github.com/ekmsync/ekmsync/internal/harness"
)

// The expectations below are written from docs/channel-semantics.md §2 and the
// simulator's default statuses, independently of the code under test.

// simTargets maps the simulator's shop statuses as 'channel add --yes' proposes
// them (EKM's usual meanings).
var simTargets = map[string]string{
	"PENDING": "unpaid", "PROCESSING": "paid", "COMPLETE": "paid", "DISPATCHED": "shipped",
	"FAILED": "cancelled", "DECLINED": "cancelled", "REFUNDED": "cancelled", "AWAITING STOCK": "unmapped",
}

// want is what the hub should hold for one EKM order.
type want struct {
	Stored      bool
	Quarantined bool
	Status      string // open or cancelled
	Paid        bool
	Parked      bool
}

// expect applies §2 to an order as EKM holds it, at time now, for an order not
// yet in the hub.
func expect(o ekm.Order, now time.Time, downloadUnpaid bool) want {
	target, known := simTargets[strings.ToUpper(o.Status)]
	if !known {
		return want{Quarantined: true}
	}
	paid := o.PaymentStatus == "SUCCESS" && o.TransactionID != ""
	switch target {
	case "shipped":
		return want{}
	case "cancelled":
		if now.Sub(o.OrderDate.Time) < 7*24*time.Hour {
			return want{Stored: true, Status: "cancelled", Paid: paid}
		}
		return want{}
	case "paid", "unmapped":
		if paid {
			return want{Stored: true, Status: "open", Paid: true}
		}
		if target == "paid" && downloadUnpaid {
			return want{Stored: true, Status: "open", Parked: true}
		}
		return want{}
	default: // unpaid
		if downloadUnpaid {
			return want{Stored: true, Status: "open", Parked: true}
		}
		return want{}
	}
}

// hubRow is one order as the hub holds it, with what the tests check.
type hubRow struct {
	Status, EKMStatus, Currency, TaxSource, CancelledBy string
	Paid, Parked, ShippedOnChannel                      bool
	RawID                                               int64
	Lines, Linked                                       int
	Quantity                                            int64
	TotalCost, EKMTotalCost, TotalTax                   float64
}

func hubOrders(t *testing.T, h *harness.Env) map[int64]hubRow {
	t.Helper()
	rows, err := h.DB.Pool.Query(context.Background(), `SELECT o.ekm_order_id, o.status, o.ekm_status, o.currency, o.tax_source,
			COALESCE(o.cancelled_by, ''), o.paid, o.parked, o.shipped_on_channel, (o.raw->>'id')::bigint,
			(SELECT count(*) FROM order_lines l WHERE l.order_id = o.id)::int,
			(SELECT count(*) FROM order_lines l WHERE l.order_id = o.id AND l.linked)::int,
			(SELECT COALESCE(sum(l.quantity), 0) FROM order_lines l WHERE l.order_id = o.id)::bigint,
			o.total_cost::float8, o.ekm_total_cost::float8, o.total_tax::float8
		FROM orders o`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[int64]hubRow{}
	for rows.Next() {
		var id int64
		var r hubRow
		if err := rows.Scan(&id, &r.Status, &r.EKMStatus, &r.Currency, &r.TaxSource, &r.CancelledBy, &r.Paid, &r.Parked,
			&r.ShippedOnChannel, &r.RawID, &r.Lines, &r.Linked, &r.Quantity, &r.TotalCost, &r.EKMTotalCost, &r.TotalTax); err != nil {
			t.Fatal(err)
		}
		if _, dup := out[id]; dup {
			t.Fatalf("order %d is in the hub twice", id)
		}
		out[id] = r
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// quarantinedIDs returns the EKM ids of the unresolved order problems.
func quarantinedIDs(t *testing.T, h *harness.Env) map[int64]string {
	t.Helper()
	rows, err := h.DB.Pool.Query(context.Background(), `SELECT ekm_order_id, reason FROM order_problems WHERE resolved_at IS NULL AND ekm_order_id IS NOT NULL`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[int64]string{}
	for rows.Next() {
		var id int64
		var reason string
		if err := rows.Scan(&id, &reason); err != nil {
			t.Fatal(err)
		}
		out[id] = reason
	}
	return out
}

// mismatches compares the hub with the expectation of every EKM order and lists
// the differences (at most 20), or none.
func mismatches(t *testing.T, h *harness.Env, orders []ekm.Order, wants map[int64]want, linked map[string]bool) []string {
	t.Helper()
	hub := hubOrders(t, h)
	quarantined := quarantinedIDs(t, h)
	var diffs []string
	add := func(format string, args ...any) {
		if len(diffs) < 20 {
			diffs = append(diffs, fmt.Sprintf(format, args...))
		}
	}
	stored := 0
	for _, o := range orders {
		w := wants[o.ID]
		r, in := hub[o.ID]
		_, q := quarantined[o.ID]
		if w.Quarantined != q {
			add("order %d (%s, %s, txn %q): quarantined %v, want %v", o.ID, o.Status, o.PaymentStatus, o.TransactionID, q, w.Quarantined)
		}
		if w.Stored != in {
			add("order %d (%s, %s, txn %q, %s old): in hub %v, want %v", o.ID, o.Status, o.PaymentStatus, o.TransactionID,
				time.Since(o.OrderDate.Time).Round(time.Hour), in, w.Stored)
			continue
		}
		if !in {
			continue
		}
		stored++
		if r.Status != w.Status || r.Paid != w.Paid || r.Parked != w.Parked {
			add("order %d (%s, %s, txn %q): status %s paid %v parked %v, want %s %v %v", o.ID, o.Status, o.PaymentStatus,
				o.TransactionID, r.Status, r.Paid, r.Parked, w.Status, w.Paid, w.Parked)
		}
		if r.RawID != o.ID || r.EKMStatus != o.Status || r.Currency != "GBP" || r.EKMTotalCost != o.TotalCost {
			add("order %d: raw id %d, ekm status %s, currency %s, ekm total %v; want %d, %s, GBP, %v", o.ID, r.RawID, r.EKMStatus,
				r.Currency, r.EKMTotalCost, o.ID, o.Status, o.TotalCost)
		}
		if w.Status == "cancelled" && r.CancelledBy != "channel" {
			add("order %d: cancelled by %q, want channel", o.ID, r.CancelledBy)
		}
		items, _ := h.Sim.OrderItems(o.ID)
		wantLinked := 0
		var qty int64
		for _, it := range items {
			if linked[it.ProductCode] {
				wantLinked++
			}
			qty += it.Quantity
		}
		if r.Lines != len(items) || r.Linked != wantLinked || r.Quantity != qty {
			add("order %d: %d lines (%d linked, qty %d), want %d (%d linked, qty %d)", o.ID, r.Lines, r.Linked, r.Quantity,
				len(items), wantLinked, qty)
		}
	}
	if len(hub) != stored {
		add("the hub has %d orders, want %d", len(hub), stored)
	}
	sort.Strings(diffs)
	return diffs
}

// addStockItems creates hub stock items for every other SKU of the simulator's
// catalogue and returns the set of SKUs that have one.
func addStockItems(t *testing.T, h *harness.Env) map[string]bool {
	t.Helper()
	linked := map[string]bool{}
	for i, p := range h.Sim.Products() {
		skus := []string{p.ProductCode}
		for _, v := range p.Variants {
			skus = append(skus, v.ProductCode)
		}
		for _, sku := range skus {
			if sku == "" || i%2 == 1 || linked[sku] {
				continue
			}
			if _, err := h.DB.Pool.Exec(context.Background(), `INSERT INTO stock_items (sku, title, tax_rate) VALUES ($1, $2, 5)`, sku, p.Name); err != nil {
				t.Fatal(err)
			}
			linked[sku] = true
		}
	}
	return linked
}

// syncNow runs 'orders sync --json' and decodes what the sync did.
func syncNow(t *testing.T, h *harness.Env) syncOutput {
	t.Helper()
	type answer struct {
		out, errOut string
		code        int
	}
	done := make(chan answer, 1)
	go func() {
		out, errOut, code := h.CLI("orders", "sync", h.Channel, "--json")
		done <- answer{out, errOut, code}
	}()
	var a answer
	select {
	case a = <-done:
	case <-time.After(90 * time.Second):
		st, _, _ := h.CLI("orders", "status", h.Channel)
		t.Fatalf("orders sync did not answer in 90 s; loop status:\n%s\nworker log:\n%s", st, h.WorkerLog())
	}
	if a.code != 0 {
		t.Fatalf("orders sync: exit %d: %s %s", a.code, a.out, a.errOut)
	}
	var out syncOutput
	if err := json.Unmarshal([]byte(a.out), &out); err != nil {
		t.Fatalf("orders sync --json: %v\n%s", err, a.out)
	}
	return out
}

type syncOutput struct {
	New, Updated, Unchanged, Skipped, Quarantined, Unparked, Cancelled, Requests, Pages int
	ShippedOnChannel                                                                    int        `json:"shipped_on_channel"`
	SyncDate                                                                            *time.Time `json:"order_sync_date"`
	Skips                                                                               []struct {
		Reason string `json:"reason"`
		Count  int    `json:"count"`
	} `json:"skips"`
}

// loopStatus queries the order-sync loop's status through the CLI.
func loopStatus(t *testing.T, h *harness.Env) map[string]any {
	t.Helper()
	var st map[string]any
	h.CLIJSON(&st, "orders", "status", h.Channel)
	return st
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
