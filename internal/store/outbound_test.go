package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ekmsync/ekmsync/internal/store"
	"github.com/ekmsync/ekmsync/internal/store/hubtest"
	"github.com/ekmsync/ekmsync/internal/store/storetest"
)

// outboundFixture is a channel with one order of two lines.
type outboundFixture struct {
	db      *storetest.DB
	channel int64
	order   int64
}

func newOutboundFixture(t *testing.T) outboundFixture {
	db := storetest.New(t)
	ch := hubtest.Channel(t, db.Pool, "shop", map[string]string{"Dispatched": "shipped", "Declined": "cancelled", "Processing": "paid"})
	order := hubtest.InsertOrder(t, db.Pool, hubtest.Order{ChannelID: ch, EKMOrderID: 1001, Lines: []hubtest.Line{
		{ItemID: 1, SKU: "A", Quantity: 2}, {ItemID: 2, SKU: "B", Quantity: 1}}})
	return outboundFixture{db: db, channel: ch, order: order}
}

func (f outboundFixture) work(t *testing.T, set store.WorkSet) []store.OrderWork {
	t.Helper()
	w, err := f.db.Store.OrderWork(context.Background(), f.channel, set, time.Now(), 100)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestShipOrderWritesParcelsAndOpensTheDespatch(t *testing.T) {
	f := newOutboundFixture(t)
	ctx := context.Background()
	parcels := []store.Parcel{{TrackingNumber: "RM1", Carrier: "Royal Mail"}, {TrackingNumber: "DPD2", Carrier: "DPD", TrackingURL: "https://t/2"}}
	res, err := f.db.Store.ShipOrder(ctx, store.OrderRef{Channel: "shop", EKMOrderID: 1001}, parcels, "test")
	if err != nil {
		t.Fatal(err)
	}
	if !res.Changed || res.Order.Status != "shipped" || res.Order.ID != f.order || len(res.Parcels) != 2 || res.Parcels[1].Parcel != 2 {
		t.Fatalf("ship = %+v", res)
	}
	work := f.work(t, store.Despatches)
	if len(work) != 1 || work[0].EKMOrderID != 1001 || len(work[0].Parcels) != 2 || work[0].Parcels[0].TrackingNumber != "RM1" {
		t.Fatalf("despatch work = %+v", work)
	}

	again, err := f.db.Store.ShipOrder(ctx, store.OrderRef{ID: f.order}, nil, "test")
	if err != nil || again.Changed || len(again.Parcels) != 2 {
		t.Fatalf("shipping again without parcels = %+v, %v; want unchanged", again, err)
	}
	if _, err := f.db.Store.ShipOrder(ctx, store.OrderRef{ID: f.order}, []store.Parcel{{TrackingNumber: "OTHER"}}, "test"); err == nil ||
		!strings.Contains(err.Error(), "already shipped with other parcels") {
		t.Fatalf("shipping again with other parcels: %v", err)
	}
	log, err := f.db.Store.AuditLog(ctx, "shop", "order.shipped", 10)
	if err != nil || len(log) != 1 {
		t.Fatalf("audit = %+v, %v; want one order.shipped", log, err)
	}
}

func TestDespatchWaitsForParcelsAndSkipsOrdersShippedOnTheChannel(t *testing.T) {
	f := newOutboundFixture(t)
	ctx := context.Background()
	// An integrator's SQL: the status first, the parcels in a later transaction.
	if _, err := f.db.Pool.Exec(ctx, `UPDATE orders SET status = 'shipped' WHERE id = $1`, f.order); err != nil {
		t.Fatal(err)
	}
	if w := f.work(t, store.Despatches); len(w) != 0 {
		t.Fatalf("a shipped order without parcels is work: %+v", w)
	}
	counts, err := f.db.Store.OrderOutboundCounts(ctx, f.channel)
	if err != nil || counts[store.KindDespatch].Waiting != 1 {
		t.Fatalf("counts = %+v, %v; want one waiting for parcels", counts, err)
	}
	if _, err := f.db.Pool.Exec(ctx, `INSERT INTO shipments (order_id, parcel, tracking_number) VALUES ($1, 1, 'T1')`, f.order); err != nil {
		t.Fatal(err)
	}
	if w := f.work(t, store.Despatches); len(w) != 1 || w[0].Parcels[0].TrackingNumber != "T1" {
		t.Fatalf("despatch work after the parcels = %+v", w)
	}

	// An order fulfilled on EKM (order download: shipped on channel) opens nothing.
	other := hubtest.InsertOrder(t, f.db.Pool, hubtest.Order{ChannelID: f.channel, EKMOrderID: 1002})
	if _, err := f.db.Pool.Exec(ctx, `UPDATE orders SET status = 'shipped', shipped_on_channel = true WHERE id = $1`, other); err != nil {
		t.Fatal(err)
	}
	var n int
	_ = f.db.Pool.QueryRow(ctx, `SELECT count(*) FROM order_outbound WHERE order_id = $1`, other).Scan(&n)
	if n != 0 {
		t.Fatalf("an order shipped on the channel opened %d outbound rows", n)
	}
}

func TestCancelOrderPartlyThenInFull(t *testing.T) {
	f := newOutboundFixture(t)
	ctx := context.Background()
	ref := store.OrderRef{ID: f.order}
	res, err := f.db.Store.CancelOrder(ctx, ref, []store.LineCancel{{Line: "A", Quantity: 1}}, "test")
	if err != nil {
		t.Fatal(err)
	}
	if res.Full || res.Order.Status != "open" || res.Lines[0].CancelledQuantity != 1 {
		t.Fatalf("partial cancel = %+v", res)
	}
	if w := f.work(t, store.FullCancellations); len(w) != 0 {
		t.Fatalf("a partial cancellation is full-cancellation work: %+v", w)
	}
	other := f.work(t, store.OtherCancellations)
	if len(other) != 1 || !other[0].PartlyCancelled {
		t.Fatalf("partial cancellation work = %+v", other)
	}
	// The push records it as not sent...
	if err := f.db.Store.RecordOrderStep(ctx, store.OrderStep{OrderID: f.order, Kind: store.KindCancellation, Outcome: store.OutcomePartial, At: time.Now()}, nil); err != nil {
		t.Fatal(err)
	}
	if w := f.work(t, store.OtherCancellations); len(w) != 0 {
		t.Fatalf("a recorded partial cancellation is still work: %+v", w)
	}
	// ...and cancelling every unit left makes it a full cancellation, which reopens the record.
	res, err = f.db.Store.CancelOrder(ctx, ref, []store.LineCancel{{Line: "A"}, {Line: "#2"}}, "test")
	if err != nil {
		t.Fatal(err)
	}
	if !res.Full || res.Order.Status != "cancelled" || res.Order.CancelledBy != "hub" {
		t.Fatalf("cancelling every line = %+v", res)
	}
	if w := f.work(t, store.FullCancellations); len(w) != 1 {
		t.Fatalf("full cancellation work = %+v", w)
	}
	again, err := f.db.Store.CancelOrder(ctx, ref, nil, "test")
	if err != nil || again.Changed {
		t.Fatalf("cancelling again = %+v, %v; want unchanged", again, err)
	}
	if _, err := f.db.Store.ShipOrder(ctx, ref, nil, "test"); err == nil {
		t.Fatal("a cancelled order was shipped")
	}
}

// The push read a partial cancellation, then the hub cancelled the order in full
// before the push recorded "not sent: partial": the full cancellation must not be
// swallowed by that record.
func TestPartialRecordDoesNotSwallowAFullCancellationThatCameMeanwhile(t *testing.T) {
	f := newOutboundFixture(t)
	ctx := context.Background()
	ref := store.OrderRef{ID: f.order}
	if _, err := f.db.Store.CancelOrder(ctx, ref, []store.LineCancel{{Line: "A", Quantity: 1}}, "test"); err != nil {
		t.Fatal(err)
	}
	if w := f.work(t, store.OtherCancellations); len(w) != 1 { // what the push read
		t.Fatalf("partial work = %+v", w)
	}
	if _, err := f.db.Store.CancelOrder(ctx, ref, nil, "test"); err != nil { // the hub, meanwhile
		t.Fatal(err)
	}
	if err := f.db.Store.RecordOrderStep(ctx, store.OrderStep{OrderID: f.order, Kind: store.KindCancellation,
		Outcome: store.OutcomePartial, At: time.Now(), UnlessFullCancel: true}, nil); err != nil {
		t.Fatal(err)
	}
	if w := f.work(t, store.FullCancellations); len(w) != 1 {
		t.Fatalf("the full cancellation was swallowed: full work = %+v", w)
	}
}

func TestCancelLinesRefusesWhatTheOrderDoesNotHave(t *testing.T) {
	f := newOutboundFixture(t)
	hubtest.InsertOrder(t, f.db.Pool, hubtest.Order{ChannelID: f.channel, EKMOrderID: 1003, Lines: []hubtest.Line{
		{ItemID: 7, SKU: "X", Quantity: 1}, {ItemID: 8, SKU: "X", Quantity: 1}}})
	cases := []struct {
		ref   store.OrderRef
		lines []store.LineCancel
		want  string
	}{
		{store.OrderRef{ID: f.order}, []store.LineCancel{{Line: "Z"}}, "no line with SKU"},
		{store.OrderRef{ID: f.order}, []store.LineCancel{{Line: "#9"}}, "no line with EKM item id"},
		{store.OrderRef{ID: f.order}, []store.LineCancel{{Line: "A", Quantity: 3}}, "has 2 of 2 left to cancel, not 3"},
		{store.OrderRef{Channel: "shop", EKMOrderID: 1003}, []store.LineCancel{{Line: "X"}}, "several lines with SKU X"},
		{store.OrderRef{Channel: "shop", EKMOrderID: 9999}, nil, "not found"},
	}
	for _, tc := range cases {
		_, err := f.db.Store.CancelOrder(context.Background(), tc.ref, tc.lines, "test")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("cancel %s %+v: %v, want %q", tc.ref, tc.lines, err, tc.want)
		}
	}
}

func TestHoldOrderWorkAuditsOnlyNewHolds(t *testing.T) {
	f := newOutboundFixture(t)
	ctx := context.Background()
	if _, err := f.db.Store.ShipOrder(ctx, store.OrderRef{ID: f.order}, nil, "test"); err != nil {
		t.Fatal(err)
	}
	newly, total, err := f.db.Store.HoldOrderWork(ctx, f.channel, store.Despatches, "Despatch Notes is off")
	if err != nil || len(newly) != 1 || total != 1 {
		t.Fatalf("first hold: %v, %d, %v", newly, total, err)
	}
	newly, total, err = f.db.Store.HoldOrderWork(ctx, f.channel, store.Despatches, "Despatch Notes is off")
	if err != nil || len(newly) != 0 || total != 1 {
		t.Fatalf("second hold: %v, %d, %v; want nothing new", newly, total, err)
	}
	held, err := f.db.Store.OrderRecords(ctx, f.channel, store.RecordsHeld, 10)
	if err != nil || len(held) != 1 || held[0].HeldReason != "Despatch Notes is off" {
		t.Fatalf("held records = %+v, %v", held, err)
	}
	// Confirming a step clears the hold.
	if err := f.db.Store.RecordOrderStep(ctx, store.OrderStep{OrderID: f.order, Kind: store.KindDespatch, Step: store.StepTracking, At: time.Now()}, nil); err != nil {
		t.Fatal(err)
	}
	if w := f.work(t, store.Despatches); len(w) != 1 || w[0].HeldReason != "" || !w[0].TrackingConfirmed {
		t.Fatalf("work after the tracking step = %+v", w)
	}
}

func TestFailedOrderWorkBacksOffUntilRetryAfter(t *testing.T) {
	f := newOutboundFixture(t)
	ctx := context.Background()
	if _, err := f.db.Store.ShipOrder(ctx, store.OrderRef{ID: f.order}, nil, "test"); err != nil {
		t.Fatal(err)
	}
	retry := time.Now().Add(time.Hour)
	if err := f.db.Store.FailOrderWork(ctx, f.order, store.KindDespatch, "ekm: not found", &retry, nil); err != nil {
		t.Fatal(err)
	}
	if w := f.work(t, store.Despatches); len(w) != 0 {
		t.Fatalf("a rejected despatch is work before its retry time: %+v", w)
	}
	later, err := f.db.Store.OrderWork(ctx, f.channel, store.Despatches, retry.Add(time.Second), 10)
	if err != nil || len(later) != 1 {
		t.Fatalf("work after the retry time = %+v, %v", later, err)
	}
}

func TestStockPlanSumsLocationsAndReservesOpenOrdersOfEveryChannel(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	ch := hubtest.Channel(t, db.Pool, "shop", nil)
	other := hubtest.Channel(t, db.Pool, "other", nil)
	hubtest.StockItem(t, db.Pool, "A", map[string]int{"main": 10, "store": 5, "returns": 100})
	hubtest.StockItem(t, db.Pool, "NEG", map[string]int{"main": -4})
	hubtest.StockItem(t, db.Pool, "CAP", map[string]int{"main": 50})
	hubtest.InsertListing(t, db.Pool, hubtest.Listing{ChannelID: ch, ProductID: 1, SKU: "A", EKMStock: hubtest.Ptr[int64](3)})
	hubtest.InsertListing(t, db.Pool, hubtest.Listing{ChannelID: ch, ProductID: 2, VariantID: 21, SKU: "NEG"})
	hubtest.InsertListing(t, db.Pool, hubtest.Listing{ChannelID: ch, ProductID: 3, SKU: "CAP", MaxListed: hubtest.Ptr(7)})
	hubtest.InsertListing(t, db.Pool, hubtest.Listing{ChannelID: ch, ProductID: 4, SKU: "UNLINKED"})
	hubtest.InsertListing(t, db.Pool, hubtest.Listing{ChannelID: ch, ProductID: 5, SKU: "A", SKUProblem: "duplicate"})
	// Open orders reserve on every channel; cancelled units and shipped orders do not.
	hubtest.InsertOrder(t, db.Pool, hubtest.Order{ChannelID: other, EKMOrderID: 1, Lines: []hubtest.Line{{SKU: "A", Quantity: 3}}})
	part := hubtest.InsertOrder(t, db.Pool, hubtest.Order{ChannelID: ch, EKMOrderID: 2, Lines: []hubtest.Line{{SKU: "A", Quantity: 2}}})
	if _, err := db.Pool.Exec(ctx, `UPDATE order_lines SET cancelled_quantity = 1 WHERE order_id = $1`, part); err != nil {
		t.Fatal(err)
	}
	hubtest.InsertOrder(t, db.Pool, hubtest.Order{ChannelID: ch, EKMOrderID: 3, Status: "shipped", Lines: []hubtest.Line{{SKU: "A", Quantity: 9}}})
	if _, err := db.Pool.Exec(ctx, `UPDATE channels SET stock_locations = '{main,store}' WHERE id = $1`, ch); err != nil {
		t.Fatal(err)
	}
	s, err := db.Store.ChannelByID(ctx, ch)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := db.Store.StockPlan(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan) != 3 {
		t.Fatalf("plan has %d listings, want the 3 linked ones: %+v", len(plan), plan)
	}
	a, neg, capped := plan[0], plan[1], plan[2]
	if a.Level != 15 || a.Reserved != 4 || a.Desired != 11 || a.Confirmed == nil || *a.Confirmed != 3 || !a.Pending(time.Now()) {
		t.Errorf("A = %+v; want level 15 (main+store), reserved 4, desired 11, confirmed 3 from the download", a)
	}
	if neg.Level != -4 || neg.Desired != 0 || neg.VariantID != 21 || neg.Confirmed != nil {
		t.Errorf("NEG = %+v; want a negative level sent as 0", neg)
	}
	if capped.Desired != 7 {
		t.Errorf("CAP = %+v; want the listing's Max Listed of 7", capped)
	}
}

func TestRecordStockSendCountsAttemptsPerValue(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	ch := hubtest.Channel(t, db.Pool, "shop", nil)
	hubtest.StockItem(t, db.Pool, "A", map[string]int{"default": 5})
	hubtest.InsertListing(t, db.Pool, hubtest.Listing{ChannelID: ch, ProductID: 1, SKU: "A"})
	s, _ := db.Store.ChannelByID(ctx, ch)
	key := store.ListingKey{ProductID: 1}
	record := func(sent int64, confirmed *int64, errMsg string) store.StockLine {
		t.Helper()
		send := store.ListingSend{ChannelID: ch, ListingKey: key, Sent: sent, Confirmed: confirmed, Error: errMsg, At: time.Now()}
		if errMsg != "" {
			retry := time.Now().Add(time.Hour)
			send.RetryAfter = &retry
		}
		if err := db.Store.RecordStockSend(ctx, send, store.AuditEntry{Actor: "test", Action: "ekm.stock"}); err != nil {
			t.Fatal(err)
		}
		plan, err := db.Store.StockPlan(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		return plan[0]
	}
	l := record(5, nil, "ekm: bad request")
	if l.Attempts != 1 || l.Error == "" || l.Confirmed != nil || l.Pending(time.Now()) {
		t.Fatalf("after a rejection: %+v; want 1 attempt, not pending during the backoff", l)
	}
	l = record(5, nil, "ekm: bad request")
	if l.Attempts != 2 {
		t.Fatalf("after a second rejection of the same value: %d attempts, want 2", l.Attempts)
	}
	l = record(5, hubtest.Ptr[int64](5), "")
	if l.Attempts != 3 || l.Error != "" || *l.Confirmed != 5 || l.SentAt == nil || l.Pending(time.Now()) {
		t.Fatalf("after the success: %+v", l)
	}
	if _, err := db.Pool.Exec(ctx, `UPDATE stock_levels SET level = 6`); err != nil {
		t.Fatal(err)
	}
	l = record(6, hubtest.Ptr[int64](6), "")
	if l.Attempts != 1 {
		t.Fatalf("a new value after a success: %d attempts, want 1", l.Attempts)
	}
	// A send of 7 whose answer was lost, then the hub goes back to 6: EKM may show
	// 7, so 6 is pending again although it was the last confirmed value.
	send := store.ListingSend{ChannelID: ch, ListingKey: key, Sent: 7, Error: "malformed answer", At: time.Now()}
	if err := db.Store.RecordStockSend(ctx, send, store.AuditEntry{Actor: "test", Action: "ekm.stock"}); err != nil {
		t.Fatal(err)
	}
	plan, err := db.Store.StockPlan(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if l = plan[0]; l.Desired != 6 || l.Confirmed != nil || !l.Pending(time.Now()) {
		t.Fatalf("after a failed send of another value: %+v; want 6 pending with nothing confirmed", l)
	}
}

func TestSetStockLevelAndPriceCreateTheItemAndReportChanges(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	res, err := db.Store.SetStockLevel(ctx, "NEW", "", 4, "test")
	if err != nil || !res.CreatedItem || !res.Changed || res.Previous != nil || res.Location != store.DefaultLocation {
		t.Fatalf("first set = %+v, %v", res, err)
	}
	res, err = db.Store.SetStockLevel(ctx, "NEW", "default", 4, "test")
	if err != nil || res.Changed || res.CreatedItem || *res.Previous != 4 {
		t.Fatalf("same level = %+v, %v; want unchanged", res, err)
	}
	price, err := db.Store.SetPrice(ctx, "NEW", 1250, "test")
	if err != nil || !price.Changed || price.Previous != nil {
		t.Fatalf("first price = %+v, %v", price, err)
	}
	price, err = db.Store.SetPrice(ctx, "NEW", 999, "test")
	if err != nil || !price.Changed || *price.Previous != 1250 {
		t.Fatalf("second price = %+v, %v", price, err)
	}
	var stored string
	_ = db.Pool.QueryRow(ctx, `SELECT price::text FROM prices WHERE sku = 'NEW'`).Scan(&stored)
	if stored != "9.99" {
		t.Fatalf("stored price %q, want 9.99", stored)
	}
}

func TestParseOrderRefAndPennies(t *testing.T) {
	for in, want := range map[string]store.OrderRef{"42": {ID: 42}, "shop:10017": {Channel: "shop", EKMOrderID: 10017}} {
		got, err := store.ParseOrderRef(in)
		if err != nil || got != want || got.String() != in {
			t.Errorf("ParseOrderRef(%q) = %+v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "0", "-3", "shop:", ":5", "shop:x", "1/2/3"} {
		if _, err := store.ParseOrderRef(bad); err == nil {
			t.Errorf("ParseOrderRef(%q) accepted", bad)
		}
	}
	for in, want := range map[string]store.Pennies{"12": 1200, "12.5": 1250, "12.50": 1250, "0.07": 7, "0": 0} {
		got, err := store.ParsePennies(in)
		if err != nil || got != want {
			t.Errorf("ParsePennies(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "-1", "1.234", "1.", ".5", "1e3", "+2", "abc"} {
		if _, err := store.ParsePennies(bad); err == nil {
			t.Errorf("ParsePennies(%q) accepted", bad)
		}
	}
	if store.PenniesOf(19.99) != 1999 || store.Pennies(1999).String() != "19.99" || store.Pennies(5).String() != "0.05" {
		t.Error("pennies do not round-trip 19.99 / 0.05")
	}
}
