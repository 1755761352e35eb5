package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"

	"github.com/ekmsync/ekmsync/internal/contract"
	"github.com/ekmsync/ekmsync/internal/ekm"
	"github.com/ekmsync/ekmsync/internal/ekmsim"
	"github.com/ekmsync/ekmsync/internal/harness"
	"github.com/ekmsync/ekmsync/workflows"
)

// TestOrderSyncKilledWorkerEndsInTheSameState: the worker process killed in the
// middle of a sync and started again ends with exactly the hub state of an
// uninterrupted run (every order as the rules say, once, with all its lines) and
// the Order Sync Date at the newest order.
func TestOrderSyncKilledWorkerEndsInTheSameState(t *testing.T) {
	h := harness.New(t, harness.Options{Sim: ekmsim.Options{Seed: 21, Products: 30, BucketSize: 10, LeakPerSecond: 30},
		Settings: []string{"download-unpaid=on"}, Disabled: true, WorkerProcess: true})
	linked := addStockItems(t, h)
	now := time.Now()
	for i := range 300 {
		st := []string{"Processing", "Pending", "Complete", "Declined", "Dispatched"}[i%5]
		h.Sim.CreateOrder(ekmsim.OrderSpec{Status: st, OrderDate: now.Add(-time.Duration(300-i) * time.Minute)})
	}
	orders := h.Sim.Orders()
	wants := map[int64]want{}
	var newest time.Time
	for _, o := range orders {
		wants[o.ID] = expect(o, now, true)
		if o.OrderDate.After(newest) {
			newest = o.OrderDate.Time
		}
	}
	h.MustCLI("channel", "enable", h.Channel)
	h.Eventually(60*time.Second, "the sync under way", func() bool { n := len(hubOrders(t, h)); return n >= 40 && n < 150 })
	h.KillWorker()
	stored := len(hubOrders(t, h))
	h.StartWorker(true)
	h.Eventually(120*time.Second, "hub matches the rules after the restart", func() bool { return len(mismatches(t, h, orders, wants, linked)) == 0 })
	if d := mismatches(t, h, orders, wants, linked); len(d) > 0 {
		t.Fatalf("hub differs from the rules:\n%s", strings.Join(d, "\n"))
	}
	var screen struct {
		OrderSyncDate *time.Time `json:"order_sync_date"`
	}
	h.Eventually(30*time.Second, "the Order Sync Date at the newest order", func() bool {
		h.CLIJSON(&screen, "channel", "show", h.Channel)
		// PostgreSQL keeps microseconds; EKM's dates carry seven fractional digits.
		return screen.OrderSyncDate != nil && screen.OrderSyncDate.Equal(newest.Truncate(time.Microsecond))
	})
	assertNoFailedRuns(t, h)
	t.Logf("killed with %d of %d orders stored", stored, len(hubOrders(t, h)))
}

// TestOrderSettingChangeAppliesFromTheNextSync: 'channel set' changes what the
// next sync does, without a restart: an unpaid order skipped while Download
// Unpaid Orders was off (and now outside the sync window) comes in parked once
// it is on, and a new order is stored with the hub's tax once Use EKM tax
// settings is off.
func TestOrderSettingChangeAppliesFromTheNextSync(t *testing.T) {
	h := harness.New(t, harness.Options{Sim: ekmsim.Options{Seed: 8, Products: 10}})
	if _, err := h.DB.Pool.Exec(context.Background(), `INSERT INTO stock_items (sku, tax_rate) VALUES ('TAX5', 5)`); err != nil {
		t.Fatal(err)
	}
	unpaid := h.Sim.CreateOrder(ekmsim.OrderSpec{Status: "Pending", PaymentStatus: "UNKNOWN", TransactionID: ptr(""), OrderDate: time.Now().Add(-2 * time.Hour)})
	h.Sim.CreateOrder(ekmsim.OrderSpec{Status: "Processing"})
	first := syncNow(t, h)
	if _, in := hubOrders(t, h)[unpaid.ID]; in || first.Skipped == 0 {
		t.Fatalf("unpaid order downloaded with Download Unpaid Orders off: %+v", first)
	}
	h.MustCLI("channel", "set", h.Channel, "download-unpaid=on", "use-ekm-tax=off")
	taxed := h.Sim.CreateOrder(ekmsim.OrderSpec{Status: "Processing", Lines: []ekmsim.LineSpec{{ProductCode: "TAX5", Quantity: 2, Price: ptr(10.0)}}})
	syncNow(t, h)
	hub := hubOrders(t, h)
	if r, in := hub[unpaid.ID]; !in || !r.Parked || r.Paid {
		t.Fatalf("the skipped unpaid order after download-unpaid=on: %+v (in hub %v)", r, in)
	}
	var rate, tax, ekmTax float64
	if err := h.DB.Pool.QueryRow(context.Background(), `SELECT l.tax_rate::float8, l.tax::float8, l.ekm_tax::float8
		FROM order_lines l JOIN orders o ON o.id = l.order_id WHERE o.ekm_order_id = $1`, taxed.ID).Scan(&rate, &tax, &ekmTax); err != nil {
		t.Fatal(err)
	}
	if r := hub[taxed.ID]; r.TaxSource != "hub" || rate != 5 || tax != 1 || ekmTax != 4 {
		t.Fatalf("order after use-ekm-tax=off: %+v, line rate %v tax %v (EKM's %v)", r, rate, tax, ekmTax)
	}
}

// TestOrderQuarantineResolvesOnceTheStatusIsMapped: an order in a status the shop
// does not list is quarantined, listed by 'orders problems', and does not stop
// the others; once the shop has the status and it is mapped, the next sync
// stores it and resolves the problem.
func TestOrderQuarantineResolvesOnceTheStatusIsMapped(t *testing.T) {
	h := harness.New(t, harness.Options{Sim: ekmsim.Options{Seed: 9, Products: 10}})
	odd := h.Sim.CreateOrder(ekmsim.OrderSpec{Status: "On Hold", OrderDate: time.Now().Add(-3 * time.Hour)})
	fine := h.Sim.CreateOrder(ekmsim.OrderSpec{Status: "Processing"})
	res := syncNow(t, h)
	if _, in := hubOrders(t, h)[fine.ID]; !in || res.Quarantined == 0 {
		t.Fatalf("sync with a quarantined order: %+v", res)
	}
	out := h.MustCLI("orders", "problems", h.Channel)
	if !strings.Contains(out, "ON HOLD") {
		t.Fatalf("problems do not name the order's status:\n%s", out)
	}
	h.Sim.SetStatuses(append(h.Sim.Statuses(), ekm.OrderStatusSetting{Name: "On Hold"}))
	h.MustCLI("channel", "test", h.Channel)
	h.MustCLI("channel", "set", h.Channel, "status:On Hold=paid")
	syncNow(t, h)
	if r, in := hubOrders(t, h)[odd.ID]; !in || !r.Paid {
		t.Fatalf("order after its status was mapped: %+v (in hub %v)", r, in)
	}
	if q := quarantinedIDs(t, h); len(q) != 0 {
		t.Fatalf("problems left: %v", q)
	}
}

// TestOrderSyncRevokedConsentIdlesAndResumesAfterReauthorise (issue 4's
// acceptance on the order loop): revoking consent while the loop runs makes the
// channel needs-reauth after at most a handful of EKM calls, no workflow run
// fails, and after 'channel reauthorise --headless' the loop resumes by itself,
// fetching the order whose webhook arrived meanwhile.
func TestOrderSyncRevokedConsentIdlesAndResumesAfterReauthorise(t *testing.T) {
	h := harness.New(t, harness.Options{Sim: ekmsim.Options{Seed: 10, Products: 10}})
	syncNow(t, h)
	h.Sim.RevokeConsent()
	before := total(h.Sim.RequestStats())
	o := h.Sim.CreateOrder(ekmsim.OrderSpec{Status: "Processing"})
	h.Eventually(30*time.Second, "the loop idle with needs-reauth", func() bool {
		st := loopStatus(t, h)
		return st["state"] == "needs-reauth" && st["phase"] == contract.PhaseIdle
	})
	if _, _, code := h.CLI("orders", "sync", h.Channel); code == 0 {
		t.Fatal("orders sync succeeded on a channel that needs reauthorisation")
	}
	time.Sleep(3 * time.Second) // the idle loop polls the hub, not EKM
	if calls := total(h.Sim.RequestStats()) - before; calls > 6 {
		t.Fatalf("%d EKM calls after the consent was revoked: %v", calls, h.Sim.RequestCounts())
	}
	assertNoFailedRuns(t, h)
	h.MustCLI("channel", "reauthorise", h.Channel, "--headless", "--timeout", "30s")
	h.Eventually(30*time.Second, "the webhook's order in the hub after the reauthorisation", func() bool {
		_, in := hubOrders(t, h)[o.ID]
		return in && loopStatus(t, h)["state"] == "ok"
	})
	assertNoFailedRuns(t, h)
}

func total(s ekmsim.RequestStats) int {
	n := 0
	for _, c := range s.ByRoute {
		n += c
	}
	return n
}

// assertNoFailedRuns checks that no run of the channel's order loop failed.
func assertNoFailedRuns(t *testing.T, h *harness.Env) {
	t.Helper()
	ctx := context.Background()
	d, err := h.Temporal.DescribeWorkflowExecution(ctx, workflows.OrderSyncID(h.Channel), "")
	if err != nil {
		t.Fatal(err)
	}
	if s := d.GetWorkflowExecutionInfo().GetStatus(); s != enums.WORKFLOW_EXECUTION_STATUS_RUNNING {
		t.Fatalf("order sync is %s, want running", s)
	}
	it := h.Temporal.GetWorkflowHistory(ctx, workflows.OrderSyncID(h.Channel), "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		// A task failed by the workflow code (a panic, non-determinism) is a bug; the
		// server failing a task because the worker died is not.
		cause := ev.GetWorkflowTaskFailedEventAttributes().GetCause()
		if ev.GetEventType() == enums.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED ||
			cause == enums.WORKFLOW_TASK_FAILED_CAUSE_WORKFLOW_WORKER_UNHANDLED_FAILURE ||
			cause == enums.WORKFLOW_TASK_FAILED_CAUSE_NON_DETERMINISTIC_ERROR {
			t.Fatalf("order sync history has %s: %v%v", ev.GetEventType(), ev.GetWorkflowExecutionFailedEventAttributes(), ev.GetWorkflowTaskFailedEventAttributes())
		}
	}
}
