package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ekmsync/ekmsync/internal/ekm"
	"github.com/ekmsync/ekmsync/internal/ekmsim"
	"github.com/ekmsync/ekmsync/internal/harness"
	"github.com/ekmsync/ekmsync/internal/store/hubtest"
)

// The outbound push against the simulator: each test changes the hub (through
// the starter CLI, or in SQL as an integrator would) and asserts on the writes the
// simulated shop received. Hub orders and listings are written directly, as the
// order and listing downloads would write them.

// pushEnv is a harness environment with the helpers of the push tests.
type pushEnv struct {
	*harness.Env
	t         *testing.T
	channelID int64
}

// newPushEnv builds an environment whose channel has a name of its own: workflow
// IDs derive from the channel's name, and the package's tests share one Temporal
// server, where an earlier test's loop (its worker gone) may still run.
func newPushEnv(t *testing.T, opts harness.Options) *pushEnv {
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	opts.Channel = "push-" + hex.EncodeToString(suffix)
	h := harness.New(t, opts)
	return &pushEnv{Env: h, t: t, channelID: h.Settings().ID}
}

// order creates an order on the simulated shop and the same order in the hub,
// open, with one line per SKU. The shop order is in an unmapped status and not
// paid, so that the order download (where it runs) leaves it alone.
func (p *pushEnv) order(skus ...string) (ekmID, hubID int64) {
	p.t.Helper()
	var specs []ekmsim.LineSpec
	var lines []hubtest.Line
	for _, sku := range skus {
		specs = append(specs, ekmsim.LineSpec{ProductCode: sku, Quantity: 1})
		lines = append(lines, hubtest.Line{SKU: sku, Quantity: 1})
	}
	o := p.Sim.CreateOrder(ekmsim.OrderSpec{Status: "Awaiting Stock", PaymentStatus: "FAILED", Lines: specs})
	hubID = hubtest.InsertOrder(p.t, p.DB.Pool, hubtest.Order{ChannelID: p.channelID, EKMOrderID: o.ID, Number: o.OrderNumber, Lines: lines})
	return o.ID, hubID
}

// product creates a product on the shop with the given stock, and its listing in
// the hub as the listing download would store it (EKM's stock and price seen),
// linked to a stock item of the same SKU at level. The listing comes first: a
// new listing wakes no push (the download that stores it does), while the stock
// level written after it wakes the channel that lists the SKU, so the push does
// not wait for its next sweep.
func (p *pushEnv) product(sku string, ekmStock int64, level int) ekm.Product {
	p.t.Helper()
	price := 10.0
	pr := p.Sim.CreateProduct(ekmsim.ProductSpec{ProductCode: &sku, Stock: &ekmStock, Price: &price})
	hubtest.InsertListing(p.t, p.DB.Pool, hubtest.Listing{ChannelID: p.channelID, ProductID: pr.ID, SKU: sku, EKMStock: &ekmStock, EKMPrice: &price})
	hubtest.StockItem(p.t, p.DB.Pool, sku, map[string]int{"default": level})
	return pr
}

// writes returns the shop's writes of a kind for an order or product.
func (p *pushEnv) writes(kind string, f ekmsim.WriteFilter) []ekmsim.Write {
	f.Kind = kind
	return p.Sim.Writes(f)
}

// shopWrites returns the writes to orders and products (leaving out the webhook
// subscriptions 'channel add' makes).
func (p *pushEnv) shopWrites() []ekmsim.Write {
	var out []ekmsim.Write
	for _, w := range p.Sim.Writes(ekmsim.WriteFilter{}) {
		if !strings.HasPrefix(w.Kind, "webhook.") {
			out = append(out, w)
		}
	}
	return out
}

// pushNow runs a pass at once through 'starter push now' (the push-now update)
// and returns its result.
func (p *pushEnv) pushNow() map[string]any {
	p.t.Helper()
	var res struct {
		Result map[string]any `json:"result"`
	}
	p.CLIJSON(&res, "push", "now", p.Channel)
	return res.Result
}

// status returns 'push status --json'.
func (p *pushEnv) status() pushStatusJSON {
	p.t.Helper()
	var s pushStatusJSON
	p.CLIJSON(&s, "push", "status", p.Channel)
	return s
}

type pushStatusJSON struct {
	Despatches    orderPushJSON `json:"despatches"`
	Cancellations orderPushJSON `json:"cancellations"`
	Stock         struct {
		Pending  int `json:"pending"`
		Failed   int `json:"failed"`
		Listings int `json:"listings"`
	} `json:"stock"`
	Loop *struct {
		State string `json:"state"`
	} `json:"loop"`
}

type orderPushJSON struct {
	Counts struct {
		Pending, Held, Failed, Done int
	} `json:"counts"`
	Held []struct {
		OrderID    int64  `json:"order_id"`
		HeldReason string `json:"held_reason"`
	} `json:"held"`
	LastSent []struct {
		OrderID int64  `json:"order_id"`
		Outcome string `json:"outcome"`
	} `json:"last_sent"`
}

func TestDespatchSendsTrackingNotesAndStatusOnce(t *testing.T) {
	p := newPushEnv(t, harness.Options{})
	ekmID, hubID := p.order("A")
	p.MustCLI("orders", "ship", fmt.Sprint(hubID), "--tracking", "RM1", "--carrier", "Royal Mail", "--tracking-url", "https://rm/RM1",
		"--tracking", "DPD2", "--carrier", "DPD")
	p.Eventually(30*time.Second, "EKM shows the order dispatched", func() bool {
		o, _ := p.Sim.Order(ekmID)
		return o.Status == "DISPATCHED"
	})
	o, _ := p.Sim.Order(ekmID)
	if o.DeliveryTrackingNumber != "RM1" || o.DeliveryTrackingCompany != "Royal Mail" || o.DeliveryTrackingURL != "https://rm/RM1" {
		t.Errorf("tracking on EKM = %q %q %q", o.DeliveryTrackingNumber, o.DeliveryTrackingCompany, o.DeliveryTrackingURL)
	}
	if !strings.Contains(o.InternalNotes, "Parcel 2: DPD DPD2") {
		t.Errorf("internal notes = %q, want parcel 2's tracking", o.InternalNotes)
	}
	f := ekmsim.WriteFilter{OrderID: ekmID}
	status, tracking, notes := p.writes(ekmsim.KindOrderStatus, f), p.writes(ekmsim.KindOrderTracking, f), p.writes(ekmsim.KindOrderNotes, f)
	if len(status) != 1 || len(tracking) != 1 || len(notes) != 1 {
		t.Fatalf("writes: %d status, %d tracking, %d notes; want one each", len(status), len(tracking), len(notes))
	}
	if !tracking[0].Time.Before(status[0].Time) {
		t.Errorf("the status (%s) came before the tracking (%s): the dispatch e-mail would lack it", status[0].Time, tracking[0].Time)
	}
	var body ekm.OrderStatusUpdate
	_ = json.Unmarshal(status[0].Body, &body)
	if body.Status != "DISPATCHED" || !body.EmailCustomer {
		t.Errorf("status body = %s", status[0].Body)
	}
	// Another pass sends nothing more, and the ledger says sent.
	p.pushNow()
	if n := len(p.Sim.Writes(f)); n != 3 {
		t.Errorf("%d writes after another pass, want still 3", n)
	}
	st := p.status()
	if st.Despatches.Counts.Done != 1 || len(st.Despatches.LastSent) != 1 || st.Despatches.LastSent[0].Outcome != "sent" {
		t.Errorf("push status despatches = %+v", st.Despatches)
	}
	audit, err := p.Store().AuditLog(context.Background(), p.Channel, "ekm.despatch.", 10)
	if err != nil || len(audit) != 3 {
		t.Errorf("audit = %d entries (%v), want tracking, notes and status", len(audit), err)
	}
}

// A worker killed between the tracking call and the status call, and started
// again, sends each exactly once. The kill is made to land there: the test holds
// a lock on the audit log, so the worker blocks recording the tracking EKM has
// just confirmed; it is killed there, before it sends the status. On restart
// the ledger has no record of the tracking, EKM shows it, and only the status is
// sent. A second order is killed right after EKM applied its status: on restart
// EKM shows it dispatched and nothing more is sent.
func TestDespatchExactlyOnceWhenTheWorkerIsKilledBetweenCalls(t *testing.T) {
	p := newPushEnv(t, harness.Options{WorkerProcess: true})
	ctx := context.Background()
	first, firstHub := p.order("A")
	second, secondHub := p.order("B")
	p.Sim.SetFaults(ekmsim.Faults{Latency: 1, LatencyDuration: 500 * time.Millisecond})

	p.MustCLI("orders", "ship", fmt.Sprint(firstHub), "--tracking", "RM1", "--carrier", "Royal Mail")
	lock, err := p.DB.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lock.Exec(ctx, `LOCK TABLE audit_log IN SHARE MODE`); err != nil {
		t.Fatal(err)
	}
	p.Eventually(30*time.Second, "EKM received the tracking and the worker blocks recording it", func() bool {
		var blocked int
		_ = p.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'INSERT INTO audit_log%'`).Scan(&blocked)
		return len(p.writes(ekmsim.KindOrderTracking, ekmsim.WriteFilter{OrderID: first})) == 1 && blocked > 0
	})
	p.KillWorker()
	_ = lock.Rollback(ctx)
	if n := len(p.writes(ekmsim.KindOrderStatus, ekmsim.WriteFilter{OrderID: first})); n != 0 {
		t.Fatalf("the status was sent before the kill (%d writes): the kill did not land between the calls", n)
	}
	p.StartWorker(true)
	p.Eventually(60*time.Second, "EKM shows the first order dispatched after the restart", func() bool {
		o, _ := p.Sim.Order(first)
		return o.Status == "DISPATCHED"
	})

	var already bool
	_ = p.DB.Pool.QueryRow(ctx, `SELECT bool_or(detail ? 'already') AND count(*) = 1 FROM audit_log
		WHERE action = 'ekm.despatch.tracking' AND (detail->>'order_id')::bigint = $1`, firstHub).Scan(&already)
	if !already {
		t.Error("after the restart the tracking was not recorded as already on EKM")
	}

	p.MustCLI("orders", "ship", fmt.Sprint(secondHub), "--tracking", "RM2")
	for len(p.writes(ekmsim.KindOrderStatus, ekmsim.WriteFilter{OrderID: second})) == 0 {
		time.Sleep(2 * time.Millisecond)
	}
	p.KillWorker()
	p.Sim.SetFaults(ekmsim.Faults{})
	p.StartWorker(true)
	p.Eventually(60*time.Second, "the second despatch is recorded done after the restart", func() bool {
		var done bool
		_ = p.DB.Pool.QueryRow(ctx, `SELECT done_at IS NOT NULL FROM order_outbound WHERE order_id = $1 AND kind = 'despatch'`, secondHub).Scan(&done)
		return done
	})
	for _, id := range []int64{first, second} {
		f := ekmsim.WriteFilter{OrderID: id}
		if s, tr := len(p.writes(ekmsim.KindOrderStatus, f)), len(p.writes(ekmsim.KindOrderTracking, f)); s != 1 || tr != 1 {
			t.Errorf("order %d: %d status and %d tracking writes, want exactly one each", id, s, tr)
		}
	}
}

// The hub ships an order that someone meanwhile marked dispatched on EKM: the push
// finds it so and sends nothing. The despatch is held until then, and the hub ships
// first, so that the order download (woken by EKM's webhook) cannot take the order
// for one fulfilled outside the hub.
func TestDespatchAlreadyDispatchedOnEKMIsRecordedWithoutACall(t *testing.T) {
	p := newPushEnv(t, harness.Options{Settings: []string{"despatch-notes=off"}})
	ekmID, hubID := p.order("A")
	p.MustCLI("orders", "ship", fmt.Sprint(hubID), "--tracking", "RM1")
	dispatched := "Dispatched"
	if _, err := p.Sim.UpdateOrder(ekmID, ekmsim.OrderPatch{Status: &dispatched}); err != nil {
		t.Fatal(err)
	}
	p.MustCLI("channel", "set", p.Channel, "despatch-notes=on")
	p.Eventually(30*time.Second, "the despatch is recorded as already on EKM", func() bool {
		s := p.status()
		return len(s.Despatches.LastSent) == 1 && s.Despatches.LastSent[0].Outcome == "already on EKM"
	})
	if w := p.Sim.Writes(ekmsim.WriteFilter{OrderID: ekmID}); len(w) != 0 {
		t.Fatalf("%d writes to an order EKM already showed dispatched, want none: %+v", len(w), w)
	}
}

func TestDespatchHeldWithItsReasonWhileDespatchNotesIsOff(t *testing.T) {
	p := newPushEnv(t, harness.Options{Settings: []string{"despatch-notes=off"}})
	ekmID, hubID := p.order("A")
	p.MustCLI("orders", "ship", fmt.Sprint(hubID), "--tracking", "RM1")
	p.Eventually(30*time.Second, "push status shows the despatch held", func() bool {
		s := p.status()
		return s.Despatches.Counts.Held == 1 && len(s.Despatches.Held) == 1
	})
	if s := p.status(); s.Despatches.Held[0].HeldReason != "Despatch Notes is off" {
		t.Fatalf("held reason = %q", s.Despatches.Held[0].HeldReason)
	}
	if w := p.Sim.Writes(ekmsim.WriteFilter{OrderID: ekmID}); len(w) != 0 {
		t.Fatalf("%d writes while Despatch Notes is off", len(w))
	}
	p.MustCLI("channel", "set", p.Channel, "despatch-notes=on")
	p.Eventually(30*time.Second, "the held despatch is sent once Despatch Notes is on", func() bool {
		o, _ := p.Sim.Order(ekmID)
		return o.Status == "DISPATCHED" && o.DeliveryTrackingNumber == "RM1"
	})
}

func TestCancellationFullIsSentAndPartialIsRecordedNotSent(t *testing.T) {
	p := newPushEnv(t, harness.Options{})
	full, fullHub := p.order("A", "B")
	partial, partialHub := p.order("A", "B")
	p.MustCLI("orders", "cancel", fmt.Sprint(partialHub), "--lines", "A")
	p.MustCLI("orders", "cancel", p.Channel+":"+fmt.Sprint(full))
	p.Eventually(30*time.Second, "EKM shows the fully cancelled order in the status mapped to Cancelled", func() bool {
		o, _ := p.Sim.Order(full)
		return o.Status == "DECLINED"
	})
	p.Eventually(30*time.Second, "the partial cancellation is recorded as not sent", func() bool {
		var outcome string
		_ = p.DB.Pool.QueryRow(context.Background(), `SELECT COALESCE(outcome, '') FROM order_outbound WHERE order_id = $1 AND kind = 'cancellation'`,
			partialHub).Scan(&outcome)
		return outcome == "not sent: partial"
	})
	p.pushNow()
	if w := p.Sim.Writes(ekmsim.WriteFilter{OrderID: partial}); len(w) != 0 {
		t.Errorf("%d writes for a partial cancellation, want none", len(w))
	}
	if w := p.writes(ekmsim.KindOrderStatus, ekmsim.WriteFilter{OrderID: full}); len(w) != 1 {
		t.Errorf("%d status writes for the full cancellation, want 1", len(w))
	}
	if s := p.status(); s.Cancellations.Counts.Done != 2 {
		t.Errorf("push status cancellations = %+v, want 2 done", s.Cancellations)
	}
	_ = fullHub
}

func TestStockIsSentOnlyWhenTheQuantityChanges(t *testing.T) {
	p := newPushEnv(t, harness.Options{})
	pr := p.product("A", 5, 5) // EKM already shows 5
	variant := p.Sim.CreateProduct(ekmsim.ProductSpec{Variants: []ekmsim.VariantSpec{{ProductCode: hubtest.Ptr("V-1"), Stock: hubtest.Ptr[int64](0)}}})
	v := variant.Variants[0]
	hubtest.StockItem(t, p.DB.Pool, "V-1", map[string]int{"default": 0})
	hubtest.InsertListing(t, p.DB.Pool, hubtest.Listing{ChannelID: p.channelID, ProductID: variant.ID, VariantID: v.ID, SKU: "V-1", EKMStock: hubtest.Ptr[int64](0)})
	p.pushNow()
	if w := p.shopWrites(); len(w) != 0 {
		t.Fatalf("%d writes while every quantity equals EKM's, want none: %+v", len(w), w)
	}
	p.MustCLI("stock", "set", "A", "5") // the same level: nothing to send
	p.pushNow()
	if w := p.writes(ekmsim.KindProductStock, ekmsim.WriteFilter{}); len(w) != 0 {
		t.Fatalf("%d stock writes after setting the same level", len(w))
	}
	// An open order reserves one: 4 is sent, once, however many passes run.
	p.order("A")
	p.MustCLI("stock", "set", "V-1", "3")
	p.Eventually(30*time.Second, "EKM shows the new quantities", func() bool {
		got, _ := p.Sim.Product(pr.ID)
		gv, _ := p.Sim.Variant(v.ID)
		return got.NumberInStock == 4 && gv.NumberInStock == 3
	})
	p.pushNow()
	p.pushNow()
	if w := p.writes(ekmsim.KindProductStock, ekmsim.WriteFilter{ProductID: pr.ID}); len(w) != 1 {
		t.Errorf("%d product stock writes, want 1", len(w))
	}
	if w := p.writes(ekmsim.KindVariantStock, ekmsim.WriteFilter{VariantID: v.ID}); len(w) != 1 {
		t.Errorf("%d variant stock writes, want 1", len(w))
	}
	audit, err := p.Store().AuditLog(context.Background(), p.Channel, "ekm.stock", 10)
	if err != nil || len(audit) != 2 || audit[0].Detail["answer"] == nil {
		t.Errorf("stock audit = %+v, %v; want two entries with EKM's answer", audit, err)
	}
}

// The quantity rules of §3, through the push: each case sets the channel's rules,
// adds a listing (EKM showing 999) and checks what EKM shows after a pass.
func TestStockQuantityRulesThroughThePush(t *testing.T) {
	p := newPushEnv(t, harness.Options{})
	cases := []struct {
		name      string
		settings  []string
		overrides hubtest.Listing
		level     int
		reserved  int
		want      int64
	}{
		{"end when at equality sends 0", []string{"end-when=5"}, hubtest.Listing{}, 5, 0, 0},
		{"end when just above sends all", []string{"end-when=5"}, hubtest.Listing{}, 6, 0, 6},
		{"end when compares the available level", []string{"end-when=5"}, hubtest.Listing{}, 8, 3, 0},
		{"a percentage rounding down to 0", []string{"stock-percentage=10"}, hubtest.Listing{}, 9, 0, 0},
		{"a percentage rounds down", []string{"stock-percentage=10"}, hubtest.Listing{}, 19, 0, 1},
		{"the cap", []string{"max-listed=3"}, hubtest.Listing{}, 10, 0, 3},
		{"the cap after the percentage", []string{"stock-percentage=50", "max-listed=3"}, hubtest.Listing{}, 5, 0, 2},
		{"a listing's percentage overrides the channel's", []string{"stock-percentage=10"}, hubtest.Listing{StockPercentage: hubtest.Ptr(100)}, 9, 0, 9},
		{"a listing's cap overrides the channel's", []string{"max-listed=3"}, hubtest.Listing{MaxListed: hubtest.Ptr(0)}, 10, 0, 10},
		{"a listing's end when overrides the channel's", []string{}, hubtest.Listing{EndWhen: hubtest.Ptr(2)}, 2, 0, 0},
		{"a negative available level sends 0", []string{}, hubtest.Listing{}, 2, 5, 0},
		{"a negative stock level sends 0", []string{}, hubtest.Listing{}, -3, 0, 0},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rules := append([]string{"channel", "set", p.Channel, "end-when=0", "stock-percentage=100", "max-listed=0"}, tc.settings...)
			p.MustCLI(rules...)
			sku := fmt.Sprintf("RULE-%d", i)
			stock := int64(999)
			pr := p.Sim.CreateProduct(ekmsim.ProductSpec{ProductCode: &sku, Stock: &stock})
			hubtest.StockItem(t, p.DB.Pool, sku, map[string]int{"default": tc.level})
			l := tc.overrides
			l.ChannelID, l.ProductID, l.SKU, l.EKMStock = p.channelID, pr.ID, sku, &stock
			hubtest.InsertListing(t, p.DB.Pool, l)
			if tc.reserved > 0 {
				hubtest.InsertOrder(t, p.DB.Pool, hubtest.Order{ChannelID: p.channelID, EKMOrderID: int64(900000 + i),
					Lines: []hubtest.Line{{SKU: sku, Quantity: tc.reserved}}})
			}
			p.pushNow()
			got, _ := p.Sim.Product(pr.ID)
			if got.NumberInStock != tc.want {
				t.Fatalf("EKM shows %d, want %d", got.NumberInStock, tc.want)
			}
			if w := p.writes(ekmsim.KindProductStock, ekmsim.WriteFilter{ProductID: pr.ID}); len(w) != 1 {
				t.Fatalf("%d stock writes, want 1", len(w))
			}
		})
	}
}

// 1,000 stock changes, made in one SQL statement, reach EKM with one request per
// changed listing and no 429, through a bucket like EKM's (40) leaking 200 times
// faster.
func TestThousandStockChangesCostOneRequestEachWithout429(t *testing.T) {
	const n = 1000
	p := newPushEnv(t, harness.Options{Sim: ekmsim.Options{BucketSize: 40, LeakPerSecond: 400}})
	ctx := context.Background()
	ids := make([]int64, n)
	skus := make([]string, n)
	zero := int64(0)
	for i := range n {
		skus[i] = fmt.Sprintf("BULK-%04d", i)
		ids[i] = p.Sim.CreateProduct(ekmsim.ProductSpec{ProductCode: &skus[i], Stock: &zero}).ID
	}
	if _, err := p.DB.Pool.Exec(ctx, `INSERT INTO stock_items (sku) SELECT unnest($1::text[])`, skus); err != nil {
		t.Fatal(err)
	}
	if _, err := p.DB.Pool.Exec(ctx, `INSERT INTO listings (channel_id, product_id, sku, ekm_stock, seen_generation)
		SELECT $1, unnest($2::bigint[]), unnest($3::text[]), 0, 1`, p.channelID, ids, skus); err != nil {
		t.Fatal(err)
	}
	p.pushNow()
	before := p.Sim.RequestStats()
	if _, err := p.DB.Pool.Exec(ctx, `INSERT INTO stock_levels (sku, level) SELECT sku, 1 + row_number() OVER (ORDER BY sku)
		FROM unnest($1::text[]) AS sku`, skus); err != nil {
		t.Fatal(err)
	}
	p.Eventually(90*time.Second, "EKM shows all 1,000 quantities", func() bool {
		return len(p.writes(ekmsim.KindProductStock, ekmsim.WriteFilter{})) >= n
	})
	p.pushNow()
	after := p.Sim.RequestStats()
	// The product routes only: the order sync's window and the webhook
	// subscription check run on schedules of their own, and on a loaded machine
	// one of them (a CI run counted 1,001 requests) can fall in this window.
	requests, byRoute := 0, map[string]int{}
	for route, c := range after.ByRoute {
		product := strings.HasPrefix(route, "GET /api/v1/products") || strings.HasPrefix(route, "PUT /api/v1/products")
		if product && c > before.ByRoute[route] {
			requests += c - before.ByRoute[route]
			byRoute[route] = c - before.ByRoute[route]
		}
	}
	if w := len(p.writes(ekmsim.KindProductStock, ekmsim.WriteFilter{})); w != n {
		t.Errorf("%d stock writes, want %d", w, n)
	}
	if requests != n {
		t.Errorf("%d API requests for %d changed listings, want exactly one each: %v", requests, n, byRoute)
	}
	if after.RateLimited != 0 {
		t.Errorf("%d answers were 429", after.RateLimited)
	}
	for i, id := range ids {
		if pr, _ := p.Sim.Product(id); pr.NumberInStock != int64(i+2) {
			t.Fatalf("product %d shows %d, want %d", id, pr.NumberInStock, i+2)
		}
	}
}

func TestDisabledChannelSendsNothingAndSendsThePendingWorkOnceEnabled(t *testing.T) {
	p := newPushEnv(t, harness.Options{Settings: []string{"price-change=on"}})
	pr := p.product("A", 5, 5)
	ekmID, hubID := p.order("B")
	p.MustCLI("channel", "disable", p.Channel)
	p.MustCLI("orders", "ship", fmt.Sprint(hubID), "--tracking", "RM1")
	p.MustCLI("stock", "set", "A", "9")
	p.MustCLI("price", "set", "A", "12.50")
	// A pass that could not run is exit 1 (docs/cli.md), its result still in the JSON.
	out, errOut, code := p.CLI("push", "now", p.Channel, "--json")
	var res struct {
		Error  string         `json:"error"`
		Result map[string]any `json:"result"`
	}
	if err := jsonInto(out, &res); err != nil || code != 1 || res.Result["ran"] != false || !strings.Contains(res.Error, "no pass ran") || !strings.Contains(errOut, "disabled") {
		t.Fatalf("push now on a disabled channel: exit %d, %v\n%s\n%s", code, err, out, errOut)
	}
	if w := p.shopWrites(); len(w) != 0 {
		t.Fatalf("%d writes while the channel is disabled: %+v", len(w), w)
	}
	s := p.status()
	if s.Despatches.Counts.Pending != 1 || s.Stock.Pending != 1 || s.Loop == nil || s.Loop.State != "idle" {
		t.Fatalf("push status while disabled = %+v, loop %+v; want the work pending and the loop idle", s, s.Loop)
	}
	p.MustCLI("channel", "enable", p.Channel)
	p.Eventually(30*time.Second, "the pending despatch, stock and price reach EKM", func() bool {
		o, _ := p.Sim.Order(ekmID)
		got, _ := p.Sim.Product(pr.ID)
		return o.Status == "DISPATCHED" && got.NumberInStock == 9 && got.Price == 12.5
	})
}

func TestPriceChangeOfAProductAndAVariant(t *testing.T) {
	p := newPushEnv(t, harness.Options{Settings: []string{"price-change=on", "update-inventory=off"}})
	pr := p.product("A", 5, 5)
	vprice := 20.0
	parent := p.Sim.CreateProduct(ekmsim.ProductSpec{Name: "Shirt", Variants: []ekmsim.VariantSpec{
		{ProductCode: hubtest.Ptr("SHIRT-S"), Price: &vprice}, {ProductCode: hubtest.Ptr("SHIRT-L"), Price: &vprice}}})
	v := parent.Variants[1]
	hubtest.StockItem(t, p.DB.Pool, "SHIRT-L", nil)
	hubtest.InsertListing(t, p.DB.Pool, hubtest.Listing{ChannelID: p.channelID, ProductID: parent.ID, VariantID: v.ID, SKU: "SHIRT-L", EKMPrice: &vprice})
	p.MustCLI("price", "set", "A", "12.50")
	p.MustCLI("price", "set", "SHIRT-L", "24.99")
	p.Eventually(30*time.Second, "EKM shows both prices", func() bool {
		got, _ := p.Sim.Product(pr.ID)
		gv, _ := p.Sim.Variant(v.ID)
		return got.Price == 12.5 && gv.Price == 24.99
	})
	got, _ := p.Sim.Product(pr.ID)
	if got.Name != pr.Name || got.Description != pr.Description || got.NumberInStock != 5 {
		t.Errorf("the product PUT changed more than the price: %+v", got)
	}
	other, _ := p.Sim.Variant(parent.Variants[0].ID)
	if other.Price != 20 {
		t.Errorf("the other variant's price changed to %v", other.Price)
	}
	p.MustCLI("price", "set", "A", "12.5") // the same price
	p.pushNow()
	if w := p.writes(ekmsim.KindProductUpdate, ekmsim.WriteFilter{ProductID: pr.ID}); len(w) != 1 {
		t.Errorf("%d product writes, want 1", len(w))
	}
	if w := p.writes(ekmsim.KindVariantUpdate, ekmsim.WriteFilter{VariantID: v.ID}); len(w) != 1 {
		t.Errorf("%d variant writes, want 1", len(w))
	}
	if w := p.Sim.Writes(ekmsim.WriteFilter{Kind: ekmsim.KindProductStock}); len(w) != 0 {
		t.Errorf("stock was sent with Update Inventory off: %+v", w)
	}
}

// An integrator's UPDATE of stock_levels wakes the push through the worker's
// LISTEN/NOTIFY (the sweep is an hour away) and gives what 'stock set' gives.
func TestSQLStockUpdateWakesThePushLikeStockSet(t *testing.T) {
	p := newPushEnv(t, harness.Options{Settings: []string{"push-sweep-interval=1h"}})
	viaCLI := p.product("CLI", 5, 5)
	viaSQL := p.product("SQL", 5, 5)
	p.MustCLI("stock", "set", "CLI", "7")
	if _, err := p.DB.Pool.Exec(context.Background(), `UPDATE stock_levels SET level = 7 WHERE sku = 'SQL'`); err != nil {
		t.Fatal(err)
	}
	p.Eventually(30*time.Second, "EKM shows 7 for both", func() bool {
		a, _ := p.Sim.Product(viaCLI.ID)
		b, _ := p.Sim.Product(viaSQL.ID)
		return a.NumberInStock == 7 && b.NumberInStock == 7
	})
	a := p.writes(ekmsim.KindProductStock, ekmsim.WriteFilter{ProductID: viaCLI.ID})
	b := p.writes(ekmsim.KindProductStock, ekmsim.WriteFilter{ProductID: viaSQL.ID})
	if len(a) != 1 || len(b) != 1 {
		t.Fatalf("%d and %d writes, want one each", len(a), len(b))
	}
	wantA := fmt.Sprintf(`{"id":%d,"stock":7}`, viaCLI.ID)
	wantB := fmt.Sprintf(`{"id":%d,"stock":7}`, viaSQL.ID)
	if string(a[0].Body) != wantA || string(b[0].Body) != wantB {
		t.Fatalf("bodies %s and %s, want %s and %s", a[0].Body, b[0].Body, wantA, wantB)
	}
}

// A listing EKM rejects (its product was deleted on EKM) is recorded with its
// error and attempts, waits out a backoff, and never holds up the others.
func TestAFailingSKUNeverBlocksTheOthers(t *testing.T) {
	p := newPushEnv(t, harness.Options{})
	good := p.product("GOOD", 0, 4)
	gone := p.product("GONE", 0, 4)
	if err := p.Sim.DeleteProduct(gone.ID); err != nil {
		t.Fatal(err)
	}
	p.pushNow()
	got, _ := p.Sim.Product(good.ID)
	if got.NumberInStock != 4 {
		t.Fatalf("the good listing shows %d, want 4", got.NumberInStock)
	}
	var st struct {
		Stock struct {
			Failed   int `json:"failed"`
			Failures []struct {
				SKU   string `json:"sku"`
				Stock struct {
					Error    string `json:"error"`
					Attempts int    `json:"attempts"`
				} `json:"stock"`
			} `json:"failures"`
		} `json:"stock"`
		Listings []struct {
			SKU   string `json:"sku"`
			Stock struct {
				Confirmed string     `json:"confirmed"`
				SentAt    *time.Time `json:"sent_at"`
				Attempts  int        `json:"attempts"`
			} `json:"stock"`
		} `json:"listings"`
	}
	p.CLIJSON(&st, "push", "status", p.Channel, "--listings")
	if st.Stock.Failed != 1 || len(st.Stock.Failures) != 1 || st.Stock.Failures[0].SKU != "GONE" ||
		!strings.Contains(st.Stock.Failures[0].Stock.Error, "not found") || st.Stock.Failures[0].Stock.Attempts != 1 {
		t.Fatalf("push status stock = %+v", st.Stock)
	}
	if len(st.Listings) != 2 || st.Listings[1].SKU != "GOOD" && st.Listings[0].SKU != "GOOD" {
		t.Fatalf("listings = %+v", st.Listings)
	}
	for _, l := range st.Listings {
		if l.SKU == "GOOD" && (l.Stock.Confirmed != "4" || l.Stock.SentAt == nil || l.Stock.Attempts != 1) {
			t.Fatalf("the good listing's result = %+v", l)
		}
	}
	before := p.Sim.RequestCounts()["PUT /api/v1/products/{id}/stock"]
	if before != 2 {
		t.Fatalf("%d stock requests, want one per listing", before)
	}
	p.pushNow()
	if after := p.Sim.RequestCounts()["PUT /api/v1/products/{id}/stock"]; after != before {
		t.Fatalf("the rejected listing was sent again during its backoff (%d → %d requests)", before, after)
	}
}

// Answers cut after EKM acted (a malformed or truncated body), and server errors,
// never make a despatch reach EKM twice: an order call is not resent blind, and
// the retry reads the order first.
func TestDespatchExactlyOnceWhenEKMAnswersAreCut(t *testing.T) {
	p := newPushEnv(t, harness.Options{Settings: []string{"push-sweep-interval=5s"}})
	type shipped struct {
		ekmID  int64
		notes  int
		tracks int
	}
	// The CLI does not call EKM: the faults hit the push alone.
	p.Sim.SetFaults(ekmsim.Faults{Malformed: 0.15, Truncated: 0.05, ServerError: 0.1})
	var orders []shipped
	for i := range 3 {
		ekmID, hubID := p.order("A")
		args := []string{"orders", "ship", fmt.Sprint(hubID)}
		s := shipped{ekmID: ekmID}
		if i > 0 { // the first ships without tracking: only the status is sent
			args = append(args, "--tracking", fmt.Sprintf("RM%d", i), "--tracking", fmt.Sprintf("DPD%d", i))
			s.notes, s.tracks = 1, 1
		}
		orders = append(orders, s)
		p.MustCLI(args...)
	}
	p.Eventually(90*time.Second, "EKM shows every order dispatched", func() bool {
		for _, o := range orders {
			if got, _ := p.Sim.Order(o.ekmID); got.Status != "DISPATCHED" {
				return false
			}
		}
		return true
	})
	p.Sim.SetFaults(ekmsim.Faults{})
	for _, o := range orders {
		f := ekmsim.WriteFilter{OrderID: o.ekmID}
		s, tr, n := len(p.writes(ekmsim.KindOrderStatus, f)), len(p.writes(ekmsim.KindOrderTracking, f)), len(p.writes(ekmsim.KindOrderNotes, f))
		if s != 1 || tr != o.tracks || n != o.notes {
			t.Errorf("order %d: %d status, %d tracking, %d notes writes; want 1, %d, %d", o.ekmID, s, tr, n, o.tracks, o.notes)
		}
	}
	failed, err := p.Store().AuditLog(context.Background(), p.Channel, "ekm.despatch.failed", 100)
	if err != nil || len(failed) == 0 {
		t.Errorf("no despatch call failed (%v): the faults did not reach the despatch, the test did not test what it names", err)
	}
}
