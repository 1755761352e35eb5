package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ekmsync/ekmsync/internal/contract"
	"github.com/ekmsync/ekmsync/internal/ekm"
	"github.com/ekmsync/ekmsync/internal/ekmsim"
	"github.com/ekmsync/ekmsync/internal/harness"
)

// payments are the payment states an EKM order can be in.
var payments = []struct {
	status string
	txn    *string
}{
	{"SUCCESS", nil},            // paid: SUCCESS with a transaction id
	{"SUCCESS", ptr("")},        // SUCCESS without a transaction id: not paid
	{"FAILED", ptr("")},         // failed
	{"UNKNOWN", ptr("")},        // not known yet
	{"FAILED", ptr("TXN-FAIL")}, // failed with a transaction id: still not paid
}

func ptr[T any](v T) *T { return &v }

// orderMix creates n orders over every shop status (and one the shop does not
// list), every payment state, and ages either side of the 7-day cancellation rule.
func orderMix(sim *ekmsim.Sim, n int, now time.Time) {
	statuses := []string{"Pending", "Processing", "Dispatched", "Complete", "Failed", "Declined", "Refunded", "Awaiting Stock", "On Hold"}
	for i := range n {
		st := statuses[i%len(statuses)]
		pay := payments[(i/len(statuses))%len(payments)]
		age := time.Duration(1+i%144) * time.Hour // under 7 days
		if (i/(len(statuses)*len(payments)))%3 == 2 {
			age = time.Duration(8*24+i%500) * time.Hour // 8 to about 29 days
		}
		sim.CreateOrder(ekmsim.OrderSpec{Status: st, PaymentStatus: pay.status, TransactionID: pay.txn, OrderDate: now.Add(-age)})
	}
}

// TestOrders1000CaseByCase: 1,000 orders over every mapping target, payment
// state and age give exactly the hub rows the rules of §2 call for, order by
// order, through the sync (and the webhooks it receives) and a back-fill of the
// older ones; a repeated sync and back-fill change nothing.
func TestOrders1000CaseByCase(t *testing.T) {
	h := harness.New(t, harness.Options{Sim: ekmsim.Options{Seed: 11, Products: 40, VariantShare: 0.3},
		Settings: []string{"download-unpaid=on"}, Disabled: true})
	linked := addStockItems(t, h)
	now := time.Now()
	orderMix(h.Sim, 1000, now)
	orders := h.Sim.Orders()
	if len(orders) != 1000 {
		t.Fatalf("simulator has %d orders", len(orders))
	}
	wants := map[int64]want{}
	cases := map[string]int{}
	for _, o := range orders {
		w := expect(o, now, true)
		wants[o.ID] = w
		cases[fmt.Sprintf("%s/%s/txn=%v -> %+v", o.Status, o.PaymentStatus, o.TransactionID != "", w)]++
	}
	if len(cases) < 60 {
		t.Fatalf("the mix covers only %d cases: %v", len(cases), cases)
	}

	h.MustCLI("channel", "enable", h.Channel)
	syncNow(t, h)
	h.MustCLI("orders", "backfill", h.Channel, "--from", now.Add(-40*24*time.Hour).Format(time.RFC3339),
		"--to", now.Add(time.Hour).Format(time.RFC3339), "--wait")
	// Webhooks of the 1,000 orders may still be arriving; their fetches must not change the outcome.
	h.Eventually(60*time.Second, "hub matches the rules", func() bool { return len(mismatches(t, h, orders, wants, linked)) == 0 })
	if d := mismatches(t, h, orders, wants, linked); len(d) > 0 {
		t.Fatalf("hub differs from the rules:\n%s", strings.Join(d, "\n"))
	}

	again := syncNow(t, h)
	if again.New != 0 || again.Updated != 0 {
		t.Fatalf("a repeated sync changed orders: %+v", again)
	}
	var bf struct {
		Result struct {
			New     int `json:"new"`
			Updated int `json:"updated"`
		} `json:"result"`
	}
	h.CLIJSON(&bf, "orders", "backfill", h.Channel, "--from", now.Add(-40*24*time.Hour).Format("2006-01-02"),
		"--to", now.Format("2006-01-02"), "--wait")
	if bf.Result.New != 0 || bf.Result.Updated != 0 {
		t.Fatalf("a repeated back-fill changed orders: %+v", bf)
	}
	if d := mismatches(t, h, orders, wants, linked); len(d) > 0 {
		t.Fatalf("after repeats the hub differs from the rules:\n%s", strings.Join(d, "\n"))
	}
	var problems struct {
		Quarantined []struct {
			Reason string `json:"reason"`
		} `json:"quarantined"`
		UnlinkedLines []any `json:"unlinked_lines"`
	}
	h.CLIJSON(&problems, "orders", "problems", h.Channel)
	if len(problems.Quarantined) == 0 || !strings.Contains(problems.Quarantined[0].Reason, "ON HOLD") || len(problems.UnlinkedLines) == 0 {
		t.Fatalf("problems = %s", mustJSON(problems))
	}
}

// TestOrderWebhooksAndOverlapMakeNoDuplicates: an order.created webhook makes the
// loop fetch that order by id; duplicate and forged webhooks, and syncs whose
// overlapping windows re-read the same orders, leave exactly one hub row per order.
func TestOrderWebhooksAndOverlapMakeNoDuplicates(t *testing.T) {
	h := harness.New(t, harness.Options{Sim: ekmsim.Options{Seed: 5, Products: 20}})
	syncNow(t, h)
	before := h.Sim.RequestCounts()["GET /api/v2/orders/{id}"]
	o := h.Sim.CreateOrder(ekmsim.OrderSpec{Status: "Processing"})
	h.Eventually(20*time.Second, "the webhook's order in the hub", func() bool { _, ok := hubOrders(t, h)[o.ID]; return ok })
	if n := h.Sim.RequestCounts()["GET /api/v2/orders/{id}"]; n <= before {
		t.Fatalf("the order came in without a fetch by id (%d before, %d after)", before, n)
	}
	url := subscribedURL(t, h)
	for _, id := range []int64{o.ID, o.ID, o.ID, 999999} {
		body := fmt.Sprintf(`{"username":"demo-shop","topic":"order.created","entity_id":%d}`, id)
		resp, err := http.Post(url, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("webhook answered %d", resp.StatusCode)
		}
	}
	for range 3 {
		syncNow(t, h)
	}
	h.Eventually(20*time.Second, "the hints handled", func() bool {
		st := loopStatus(t, h)
		return st["pending_hints"].(float64) == 0 && st["phase"] != contract.PhaseSyncing
	})
	hub := hubOrders(t, h)
	var n int
	if err := h.DB.Pool.QueryRow(context.Background(), `SELECT count(*) FROM orders WHERE ekm_order_id = $1`, o.ID).Scan(&n); err != nil || n != 1 {
		t.Fatalf("order %d is in the hub %d times (%v)", o.ID, n, err)
	}
	items, _ := h.Sim.OrderItems(o.ID)
	if hub[o.ID].Lines != len(items) {
		t.Fatalf("order %d has %d lines, want %d", o.ID, hub[o.ID].Lines, len(items))
	}
	if _, forged := hub[999999]; forged {
		t.Fatal("a forged webhook created an order")
	}
}

// TestOrderPaidLaterAndCancelledOnEKM: an unpaid order paid later on EKM is paid
// and un-parked on the next sync; a paid order cancelled on EKM is switched to
// cancelled and releases its stock; one dispatched on EKM is marked shipped on
// the channel.
func TestOrderPaidLaterAndCancelledOnEKM(t *testing.T) {
	h := harness.New(t, harness.Options{Sim: ekmsim.Options{Seed: 6, Products: 10}, Settings: []string{"download-unpaid=on"}})
	unpaid := h.Sim.CreateOrder(ekmsim.OrderSpec{Status: "Pending", PaymentStatus: "UNKNOWN", TransactionID: ptr("")})
	toCancel := h.Sim.CreateOrder(ekmsim.OrderSpec{Status: "Processing", Lines: []ekmsim.LineSpec{{ProductCode: "CANCEL-ME", Quantity: 3}}})
	toShip := h.Sim.CreateOrder(ekmsim.OrderSpec{Status: "Processing"})
	syncNow(t, h)
	hub := hubOrders(t, h)
	if r := hub[unpaid.ID]; !r.Parked || r.Paid || r.Status != "open" {
		t.Fatalf("unpaid order: %+v", r)
	}
	reserved, err := h.Store().ReservedBySKU(context.Background())
	if err != nil || reserved["CANCEL-ME"] != 3 {
		t.Fatalf("reserved before the cancellation: %v (%v)", reserved, err)
	}
	mustUpdate(t, h, unpaid.ID, ekmsim.OrderPatch{Status: ptr("Processing"), PaymentStatus: ptr("SUCCESS"), TransactionID: ptr("TXN-LATE")})
	mustUpdate(t, h, toCancel.ID, ekmsim.OrderPatch{Status: ptr("Refunded")})
	mustUpdate(t, h, toShip.ID, ekmsim.OrderPatch{Status: ptr("Dispatched")})
	syncNow(t, h)
	hub = hubOrders(t, h)
	if r := hub[unpaid.ID]; r.Parked || !r.Paid || r.Status != "open" {
		t.Fatalf("order paid later: %+v", r)
	}
	if r := hub[toCancel.ID]; r.Status != "cancelled" || r.CancelledBy != "channel" || !r.Paid {
		t.Fatalf("order cancelled on EKM: %+v", r)
	}
	if r := hub[toShip.ID]; r.Status != "shipped" || !r.ShippedOnChannel {
		t.Fatalf("order dispatched on EKM: %+v", r)
	}
	reserved, err = h.Store().ReservedBySKU(context.Background())
	if err != nil || reserved["CANCEL-ME"] != 0 {
		t.Fatalf("reserved after the cancellation: %v (%v)", reserved, err)
	}
	var list struct {
		Orders []struct {
			EKMOrderID  int64  `json:"ekm_order_id"`
			CancelledBy string `json:"cancelled_by"`
		} `json:"orders"`
	}
	h.CLIJSON(&list, "orders", "list", h.Channel, "--status", "cancelled", "--payment", "paid", "--since", time.Now().Add(-time.Hour).Format("2006-01-02T15:04:05Z"))
	if len(list.Orders) != 1 || list.Orders[0].EKMOrderID != toCancel.ID || list.Orders[0].CancelledBy != "channel" {
		t.Fatalf("orders list --status cancelled --payment paid = %+v", list)
	}
	if _, _, code := h.CLI("orders", "list", h.Channel, "--status", "lost"); code != 2 {
		t.Fatalf("orders list --status lost exited %d, want 2", code)
	}
}

func mustUpdate(t *testing.T, h *harness.Env, id int64, p ekmsim.OrderPatch) ekm.Order {
	t.Helper()
	o, err := h.Sim.UpdateOrder(id, p)
	if err != nil {
		t.Fatal(err)
	}
	return o
}
