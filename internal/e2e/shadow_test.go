package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ekmsync/ekmsync/internal/ekmsim"
	"github.com/ekmsync/ekmsync/internal/harness"
	"github.com/ekmsync/ekmsync/internal/store/hubtest"
)

// Shadow mode (docs/channel-semantics.md §4, shadow mode) through the CLI against the
// simulator: a channel in shadow sends nothing and 'push plan' lists what it
// would send; switched to live, the shop receives exactly those writes, once.

// planJSON is 'push plan --json'.
type planJSON struct {
	Mode   string `json:"mode"`
	Writes []struct {
		Kind         string         `json:"kind"`
		Write        string         `json:"write"`
		Target       string         `json:"target"`
		EKMOrderID   int64          `json:"ekm_order_id"`
		EKMProductID int64          `json:"ekm_product_id"`
		EKMVariantID int64          `json:"ekm_variant_id"`
		Values       map[string]any `json:"values"`
		Reason       string         `json:"reason"`
	} `json:"writes"`
}

// writeKey identifies an EKM write by its endpoint and what it writes.
type writeKey struct {
	Kind                          string
	OrderID, ProductID, VariantID int64
}

func TestShadowModeSendsNothingAndLiveSendsThePlanOnce(t *testing.T) {
	p := newPushEnv(t, harness.Options{Settings: []string{"mode=shadow", "price-change=on"}})
	shipped, shippedHub := p.order("X")
	cancelled, _ := p.order("Y")
	p.MustCLI("orders", "ship", fmt.Sprint(shippedHub), "--tracking", "RM1", "--carrier", "Royal Mail",
		"--tracking", "DPD2", "--carrier", "DPD")
	p.MustCLI("orders", "cancel", p.Channel+":"+fmt.Sprint(cancelled))
	pr := p.product("P", 5, 8) // EKM shows 5, the hub has 8
	p.MustCLI("price", "set", "P", "12.50")
	p.pushNow()

	if w := p.shopWrites(); len(w) != 0 {
		t.Fatalf("%d writes to the shop in shadow mode, want none: %+v", len(w), w)
	}
	var plan planJSON
	p.CLIJSON(&plan, "push", "plan", p.Channel)
	if plan.Mode != "shadow" {
		t.Fatalf("push plan mode = %q, want shadow", plan.Mode)
	}
	var planned []writeKey
	for _, w := range plan.Writes {
		if w.Reason == "" || len(w.Values) == 0 {
			t.Errorf("planned write without its reason or values: %+v", w)
		}
		planned = append(planned, writeKey{w.Write, w.EKMOrderID, w.EKMProductID, w.EKMVariantID})
	}
	want := []writeKey{
		{ekmsim.KindOrderTracking, shipped, 0, 0}, {ekmsim.KindOrderNotes, shipped, 0, 0}, {ekmsim.KindOrderStatus, shipped, 0, 0},
		{ekmsim.KindOrderStatus, cancelled, 0, 0}, {ekmsim.KindProductStock, 0, pr.ID, 0}, {ekmsim.KindProductUpdate, 0, pr.ID, 0},
	}
	if !sameWrites(planned, want) {
		t.Fatalf("push plan = %+v, want %+v", planned, want)
	}
	var status struct {
		Mode string `json:"mode"`
		Plan []any  `json:"plan"`
	}
	p.CLIJSON(&status, "push", "status", p.Channel)
	if status.Mode != "shadow" || len(status.Plan) != len(want) {
		t.Errorf("push status: mode %q, %d planned writes; want shadow and %d", status.Mode, len(status.Plan), len(want))
	}
	// Another pass plans the same and still sends nothing.
	p.pushNow()
	if w := p.shopWrites(); len(w) != 0 {
		t.Fatalf("%d writes after a second pass in shadow mode", len(w))
	}

	p.MustCLI("channel", "set", p.Channel, "mode=live")
	p.Eventually(30*time.Second, "the shop receives the planned writes", func() bool { return len(p.shopWrites()) >= len(want) })
	p.pushNow()
	p.pushNow()
	var sent []writeKey
	for _, w := range p.shopWrites() {
		sent = append(sent, writeKey{w.Kind, w.OrderID, w.ProductID, w.VariantID})
	}
	if !sameWrites(sent, planned) {
		t.Errorf("writes after going live = %+v, want the plan %+v, each once", sent, planned)
	}
	got, _ := p.Sim.Product(pr.ID)
	if got.NumberInStock != 8 || got.Price != 12.5 {
		t.Errorf("EKM shows stock %d, price %v; want the planned 8 and 12.50", got.NumberInStock, got.Price)
	}
	if o, _ := p.Sim.Order(shipped); o.Status != "DISPATCHED" || o.DeliveryTrackingNumber != "RM1" {
		t.Errorf("the shipped order on EKM: status %q, tracking %q", o.Status, o.DeliveryTrackingNumber)
	}
	var left int
	if err := p.DB.Pool.QueryRow(context.Background(), `SELECT count(*) FROM push_plan WHERE channel_id = $1`, p.channelID).Scan(&left); err != nil || left != 0 {
		t.Errorf("%d planned writes left after a live pass (%v), want none", left, err)
	}
	p.CLIJSON(&plan, "push", "plan", p.Channel)
	if plan.Mode != "live" || len(plan.Writes) != 0 {
		t.Errorf("push plan when live: mode %q, %d writes", plan.Mode, len(plan.Writes))
	}
	audit, err := p.Store().AuditLog(context.Background(), p.Channel, "ekm.despatch.would-send", 10)
	if err != nil || len(audit) != 3 {
		t.Errorf("would-send audit of the despatch = %d entries (%v), want one per planned write, not one per pass", len(audit), err)
	}
}

// sameWrites reports whether a and b hold the same writes, as many times each.
func sameWrites(a, b []writeKey) bool {
	key := func(k writeKey) string {
		return fmt.Sprintf("%s/%d/%d/%d", k.Kind, k.OrderID, k.ProductID, k.VariantID)
	}
	order := func(x, y writeKey) int { return strings.Compare(key(x), key(y)) }
	a, b = slices.Clone(a), slices.Clone(b)
	slices.SortFunc(a, order)
	slices.SortFunc(b, order)
	return slices.Equal(a, b)
}

// 'channel add --mode shadow' adds a channel whose push never writes to the shop,
// from its first pass; a mode that does not exist is refused before anything is
// created.
func TestChannelAddStartsInShadowMode(t *testing.T) {
	p := newPushEnv(t, harness.Options{})
	secretFile := filepath.Join(t.TempDir(), "client-secret")
	if err := os.WriteFile(secretFile, []byte("ekmsim-demo-secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	name := p.Channel + "-shadow"
	add := func(mode string) (string, string, int) {
		return p.CLI("channel", "add", name, "--api-url", p.SimURL, "--client-id", "ekmsim-demo-client",
			"--client-secret-file", secretFile, "--redirect-url", "http://"+string(p.Config.CallbackAddr)+"/callback",
			"--headless", "--yes", "--timeout", "30s", "--mode", mode)
	}
	if _, errOut, code := add("dry-run"); code != 2 || !strings.Contains(errOut, "live or shadow") {
		t.Fatalf("--mode dry-run: exit %d, %q; want a usage error naming live or shadow", code, errOut)
	}
	if _, err := p.Store().Channel(context.Background(), name); err == nil {
		t.Fatal("a refused 'channel add' created the channel")
	}
	out, errOut, code := add("shadow")
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = p.Workflows.StopChannel(ctx, name)
	})
	if code != 0 || !strings.Contains(out, "mode shadow") {
		t.Fatalf("channel add --mode shadow: exit %d, %q, %q", code, out, errOut)
	}
	var show struct {
		Settings []struct {
			Key   string `json:"setting"`
			Value string `json:"value"`
		} `json:"settings"`
	}
	p.CLIJSON(&show, "channel", "show", name)
	mode := ""
	for _, s := range show.Settings {
		if s.Key == "mode" {
			mode = s.Value
		}
	}
	if mode != "shadow" {
		t.Errorf("channel show: mode %q, want shadow", mode)
	}
	p.MustCLI("channel", "set", name, "enabled=on")
	pr := p.Sim.CreateProduct(ekmsim.ProductSpec{ProductCode: hubtest.Ptr("Q"), Stock: hubtest.Ptr[int64](1)})
	s, _ := p.Store().Channel(context.Background(), name)
	hubtest.StockItem(t, p.DB.Pool, "Q", map[string]int{"default": 9})
	hubtest.InsertListing(t, p.DB.Pool, hubtest.Listing{ChannelID: s.ID, ProductID: pr.ID, SKU: "Q", EKMStock: hubtest.Ptr[int64](1)})
	var res struct {
		Result map[string]any `json:"result"`
	}
	p.CLIJSON(&res, "push", "now", name)
	if w := p.Sim.Writes(ekmsim.WriteFilter{ProductID: pr.ID}); len(w) != 0 {
		t.Errorf("%d writes from a channel added in shadow mode, want none", len(w))
	}
	var plan planJSON
	p.CLIJSON(&plan, "push", "plan", name)
	if len(plan.Writes) != 1 || plan.Writes[0].EKMProductID != pr.ID {
		t.Errorf("push plan = %+v, want product %d's stock (push now: %v)", plan.Writes, pr.ID, res.Result)
	}
}
