package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ekmsync/ekmsync/internal/ekmsim"
	"github.com/ekmsync/ekmsync/internal/harness"
	"github.com/ekmsync/ekmsync/internal/store/hubtest"
)

// driftJSON is what the tests read of 'channel drift --json'.
type driftJSON struct {
	Counts struct {
		Stock        int `json:"stock"`
		Price        int `json:"price"`
		NotOnEKM     int `json:"not_on_ekm"`
		MissedOrders int `json:"missed_orders"`
		ShippedOnEKM int `json:"shipped_on_ekm"`
		ShippedInHub int `json:"shipped_in_hub"`
	} `json:"counts"`
	Listings []struct {
		ProductID int64  `json:"product_id"`
		SKU       string `json:"sku"`
		Kind      string `json:"kind"`
		State     string `json:"state"`
		EKM       string `json:"ekm"`
		Hub       string `json:"hub"`
	} `json:"listings"`
	Orders []struct {
		EKMOrderID int64  `json:"ekm_order_id"`
		Kind       string `json:"kind"`
		State      string `json:"state"`
	} `json:"orders"`
	Healed *struct {
		ListingsMarked int     `json:"listings_marked"`
		BackfillIDs    []int64 `json:"backfill_ids"`
		Left           int     `json:"left"`
	} `json:"healed"`
}

// rows names the report's rows, "<kind> <sku or order id> <state>", sorted.
func (d driftJSON) rows() []string {
	var out []string
	for _, l := range d.Listings {
		out = append(out, fmt.Sprintf("%s %s %s %s->%s", l.Kind, l.SKU, l.State, l.EKM, l.Hub))
	}
	for _, o := range d.Orders {
		out = append(out, fmt.Sprintf("%s %d %s", o.Kind, o.EKMOrderID, o.State))
	}
	slices.Sort(out)
	return out
}

// Stock and a price changed in EKM's admin behind the hub's back, and an order
// the hub lost, are exactly what 'channel drift' reports; --heal makes the push
// send the hub's values again and the back-fill bring the order in, through their
// normal paths; the next comparison reports nothing.
func TestDriftReportsAndHealsStockPriceAndMissedOrders(t *testing.T) {
	p := newPushEnv(t, harness.Options{Settings: []string{"price-change=on"}})
	ctx := context.Background()
	a := p.product("DRIFT-A", 5, 5)
	b := p.product("DRIFT-B", 3, 3)
	p.product("DRIFT-C", 7, 7) // stays as the hub wants: never reported
	for _, sku := range []string{"DRIFT-A", "DRIFT-B", "DRIFT-C"} {
		p.MustCLI("price", "set", sku, "10.00") // what EKM shows
	}
	// Two paid orders of an unlisted item, downloaded by the order sync; then the
	// hub loses the older one (its download deleted), which no later sync re-reads:
	// the cursor and the last_updated cursor have passed it.
	older := p.Sim.CreateOrder(ekmsim.OrderSpec{Status: "Processing", OrderDate: time.Now().Add(-3 * time.Hour),
		Lines: []ekmsim.LineSpec{{ProductCode: "UNLISTED", Quantity: 1}}})
	newer := p.Sim.CreateOrder(ekmsim.OrderSpec{Status: "Processing", Lines: []ekmsim.LineSpec{{ProductCode: "UNLISTED", Quantity: 1}}})
	syncNow(t, p.Env)
	if hub := hubOrders(t, p.Env); len(hub) != 2 {
		t.Fatalf("the sync stored %d orders, want 2", len(hub))
	}
	var before driftJSON
	p.CLIJSON(&before, "channel", "drift", p.Channel, "--drifted-only")
	if n := len(before.Listings) + len(before.Orders); n != 0 {
		t.Fatalf("drift before any change reports %v, want nothing", before.rows())
	}
	if _, err := p.DB.Pool.Exec(ctx, `DELETE FROM orders WHERE channel_id = $1 AND ekm_order_id = $2`, p.channelID, older.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Sim.UpdateProduct(a.ID, ekmsim.ProductPatch{Stock: hubtest.Ptr[int64](9)}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Sim.UpdateProduct(b.ID, ekmsim.ProductPatch{Price: hubtest.Ptr(12.5)}); err != nil {
		t.Fatal(err)
	}

	var report driftJSON
	p.CLIJSON(&report, "channel", "drift", p.Channel, "--drifted-only")
	want := []string{fmt.Sprintf("missed %d drifted", older.ID), "price DRIFT-B drifted 12.50->10.00", "stock DRIFT-A drifted 9->5"}
	if got := report.rows(); !slices.Equal(got, want) {
		t.Fatalf("drift rows = %q, want %q", got, want)
	}
	if c := report.Counts; c.Stock != 1 || c.Price != 1 || c.MissedOrders != 1 || c.NotOnEKM+c.ShippedOnEKM+c.ShippedInHub != 0 {
		t.Errorf("counts = %+v, want one stock, one price, one missed order", c)
	}
	// The same figures as metrics: the comparison is recorded in the hub.
	body := scrapeText(t, "http://"+string(p.WorkerConfig.AdminAddr)+"/metrics")
	ch := `channel="` + p.Channel + `"`
	for kind, want := range map[string]float64{"stock": 1, "price": 1, "missed_orders": 1, "not_on_ekm": 0, "shipped_in_hub": 0} {
		if v := sampleValue(body, `ekmsync_drift_rows{`+ch+`,kind="`+kind+`"}`); v != want {
			t.Errorf("ekmsync_drift_rows of %s = %v, want %v", kind, v, want)
		}
	}
	if v := sampleValue(body, `ekmsync_drift_failed{`+ch+`}`); v != 0 {
		t.Errorf("ekmsync_drift_failed = %v, want 0", v)
	}
	// The full view lists the listings that agree, as ok.
	var full driftJSON
	p.CLIJSON(&full, "channel", "drift", p.Channel)
	if !slices.Contains(full.rows(), "stock DRIFT-C ok 7->7") {
		t.Errorf("full view = %q, want DRIFT-C's stock as ok", full.rows())
	}
	if len(p.shopWrites()) != 0 {
		t.Fatalf("a comparison wrote to EKM: %+v", p.shopWrites())
	}

	var healed driftJSON
	p.CLIJSON(&healed, "channel", "drift", p.Channel, "--heal", "--drifted-only")
	if h := healed.Healed; h == nil || h.ListingsMarked != 2 || !slices.Equal(h.BackfillIDs, []int64{older.ID}) || h.Left != 0 {
		t.Fatalf("heal = %+v, want 2 listing values marked and order %d back-filled", h, older.ID)
	}
	p.Eventually(60*time.Second, "the push sends the hub's stock and price, and the back-fill brings the order in", func() bool {
		ga, _ := p.Sim.Product(a.ID)
		gb, _ := p.Sim.Product(b.ID)
		_, back := hubOrders(t, p.Env)[older.ID]
		return ga.NumberInStock == 5 && gb.Price == 10 && back
	})
	if w := p.writes(ekmsim.KindProductStock, ekmsim.WriteFilter{ProductID: a.ID}); len(w) != 1 {
		t.Errorf("%d stock writes of DRIFT-A, want 1", len(w))
	}
	if w := p.writes(ekmsim.KindProductStock, ekmsim.WriteFilter{ProductID: b.ID}); len(w) != 0 {
		t.Errorf("%d stock writes of DRIFT-B, whose stock did not drift, want 0", len(w))
	}
	if _, ok := hubOrders(t, p.Env)[newer.ID]; !ok {
		t.Errorf("order %d left the hub", newer.ID)
	}
	p.Eventually(30*time.Second, "the push ledger records the sends", func() bool {
		var after driftJSON
		p.CLIJSON(&after, "channel", "drift", p.Channel, "--drifted-only")
		return len(after.Listings)+len(after.Orders) == 0
	})
	var after driftJSON
	p.CLIJSON(&after, "channel", "drift", p.Channel)
	for _, l := range after.Listings {
		if l.State != "ok" {
			t.Errorf("after the heal: %s %s is %s", l.Kind, l.SKU, l.State)
		}
	}
	if out := p.MustCLI("channel", "show", p.Channel); !strings.Contains(out, "nothing drifted") {
		t.Errorf("the channel screen does not show the last comparison's result:\n%s", out)
	}
}

// Order states that disagree: an order EKM shows dispatched that the hub holds
// open (its copy set back behind the sync) is healed by the back-fill; an order
// the hub despatched that EKM shows in an unshipped status is reported and left
// to the operator, since sending the despatch again would e-mail the customer.
func TestDriftReportsOrderStatesThatDisagree(t *testing.T) {
	// No overlap: the next sync would re-read an order changed within it, which
	// is then pending, not drift.
	p := newPushEnv(t, harness.Options{Settings: []string{"order-overlap=0s"}})
	ctx := context.Background()
	line := []ekmsim.LineSpec{{ProductCode: "UNLISTED", Quantity: 1}}
	onEKM := p.Sim.CreateOrder(ekmsim.OrderSpec{Status: "Processing", OrderDate: time.Now().Add(-2 * time.Hour), Lines: line})
	inHub := p.Sim.CreateOrder(ekmsim.OrderSpec{Status: "Processing", OrderDate: time.Now().Add(-time.Hour), Lines: line})
	syncNow(t, p.Env)
	// Shipped on EKM; the sync marks the hub's copy, which then loses it.
	if _, err := p.Sim.UpdateOrder(onEKM.ID, ekmsim.OrderPatch{Status: hubtest.Ptr("Dispatched")}); err != nil {
		t.Fatal(err)
	}
	syncNow(t, p.Env)
	if got := hubOrders(t, p.Env)[onEKM.ID]; got.Status != "shipped" {
		t.Fatalf("the sync left order %d %q, want shipped", onEKM.ID, got.Status)
	}
	// Despatched by the hub, then set back to Processing on EKM.
	var hubID int64
	if err := p.DB.Pool.QueryRow(ctx, `SELECT id FROM orders WHERE channel_id = $1 AND ekm_order_id = $2`, p.channelID, inHub.ID).Scan(&hubID); err != nil {
		t.Fatal(err)
	}
	p.MustCLI("orders", "ship", fmt.Sprint(hubID), "--tracking", "RM1", "--carrier", "Royal Mail")
	p.Eventually(30*time.Second, "the push despatches the order", func() bool {
		o, _ := p.Sim.Order(inHub.ID)
		return o.Status == "DISPATCHED"
	})
	p.Eventually(30*time.Second, "the push records the despatch", func() bool {
		var n int
		_ = p.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM order_outbound WHERE order_id = $1 AND kind = 'despatch' AND outcome = 'sent'`, hubID).Scan(&n)
		return n == 1
	})
	if _, err := p.Sim.UpdateOrder(inHub.ID, ekmsim.OrderPatch{Status: hubtest.Ptr("Processing")}); err != nil {
		t.Fatal(err)
	}
	syncNow(t, p.Env) // the sync reads the change: the hub's copy stays shipped
	// The hub loses order onEKM's shipped state, behind the sync's cursors.
	if _, err := p.DB.Pool.Exec(ctx, `UPDATE orders SET status = 'open', shipped_on_channel = false WHERE channel_id = $1 AND ekm_order_id = $2`,
		p.channelID, onEKM.ID); err != nil {
		t.Fatal(err)
	}

	var report driftJSON
	p.CLIJSON(&report, "channel", "drift", p.Channel, "--drifted-only", "--heal")
	want := []string{fmt.Sprintf("shipped_in_hub %d drifted", inHub.ID), fmt.Sprintf("shipped_on_ekm %d drifted", onEKM.ID)}
	if got := report.rows(); !slices.Equal(got, want) {
		t.Fatalf("drift rows = %q, want %q", got, want)
	}
	if h := report.Healed; h == nil || !slices.Equal(h.BackfillIDs, []int64{onEKM.ID}) || h.Left != 1 {
		t.Fatalf("heal = %+v, want order %d back-filled and one row left to the operator", h, onEKM.ID)
	}
	p.Eventually(60*time.Second, "the back-fill marks the order shipped on the channel", func() bool {
		got := hubOrders(t, p.Env)[onEKM.ID]
		return got.Status == "shipped" && got.ShippedOnChannel
	})
	if n := len(p.writes(ekmsim.KindOrderStatus, ekmsim.WriteFilter{OrderID: inHub.ID})); n != 1 {
		t.Errorf("%d status writes of order %d, want the one despatch: a heal never sends it again", n, inHub.ID)
	}
	// The operator sets EKM right; nothing is left.
	if _, err := p.Sim.UpdateOrder(inHub.ID, ekmsim.OrderPatch{Status: hubtest.Ptr("Dispatched")}); err != nil {
		t.Fatal(err)
	}
	var after driftJSON
	p.CLIJSON(&after, "channel", "drift", p.Channel, "--drifted-only")
	if rows := after.rows(); len(rows) != 0 {
		t.Fatalf("drift after the heal = %q, want nothing", rows)
	}
	// A disabled channel never calls EKM: the comparison is refused, saying what to run.
	p.MustCLI("channel", "set", p.Channel, "enabled=off")
	if out, errOut, code := p.CLI("channel", "drift", p.Channel); code != 1 || !strings.Contains(errOut, "channel enable") {
		t.Errorf("drift of a disabled channel: exit %d, %s %s; want 1 and the command that enables it", code, out, errOut)
	}
}
