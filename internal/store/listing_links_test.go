package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/ekmsync/ekmsync/internal/store"
	"github.com/ekmsync/ekmsync/internal/store/hubtest"
	"github.com/ekmsync/ekmsync/internal/store/storetest"
)

// linkFixture is a channel whose listing 1 (SKU EKM-RED) has no stock item of its
// SKU, with order lines of that SKU on it and on another channel, and a stock
// item STOCK-1 with a level and a price.
type linkFixture struct {
	db        *storetest.DB
	ch, other int64
	red       store.StoredListing
	open      int64 // hub id of the open order of EKM-RED on ch
}

func newLinkFixture(t *testing.T) linkFixture {
	t.Helper()
	db := storetest.New(t)
	ctx := context.Background()
	f := linkFixture{db: db, ch: hubtest.Channel(t, db.Pool, "shop", nil), other: hubtest.Channel(t, db.Pool, "other", nil)}
	hubtest.StockItem(t, db.Pool, "STOCK-1", map[string]int{"default": 10})
	if _, err := db.Store.SetPrice(ctx, "STOCK-1", 500, "test"); err != nil {
		t.Fatal(err)
	}
	hubtest.InsertListing(t, db.Pool, hubtest.Listing{ChannelID: f.ch, ProductID: 1, SKU: "EKM-RED", EKMStock: hubtest.Ptr[int64](0)})
	hubtest.InsertListing(t, db.Pool, hubtest.Listing{ChannelID: f.ch, ProductID: 2, SKU: "", SKUProblem: "empty"})
	hubtest.InsertListing(t, db.Pool, hubtest.Listing{ChannelID: f.ch, ProductID: 3, VariantID: 31, SKU: "DUP", SKUProblem: "duplicate"})
	hubtest.InsertListing(t, db.Pool, hubtest.Listing{ChannelID: f.ch, ProductID: 4, SKU: "DUP", SKUProblem: "duplicate"})
	hubtest.InsertListing(t, db.Pool, hubtest.Listing{ChannelID: f.other, ProductID: 1, SKU: "EKM-RED"})
	f.open = hubtest.InsertOrder(t, db.Pool, hubtest.Order{ChannelID: f.ch, EKMOrderID: 1, Lines: []hubtest.Line{{SKU: "EKM-RED", Quantity: 2}}})
	hubtest.InsertOrder(t, db.Pool, hubtest.Order{ChannelID: f.ch, EKMOrderID: 2, Status: "shipped", Lines: []hubtest.Line{{SKU: "EKM-RED", Quantity: 1}}})
	hubtest.InsertOrder(t, db.Pool, hubtest.Order{ChannelID: f.other, EKMOrderID: 3, Lines: []hubtest.Line{{SKU: "EKM-RED", Quantity: 5}}})
	var err error
	if f.red, err = db.Store.ListingByRef(ctx, f.ch, "shop", store.ListingKey{ProductID: 1}, ""); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f linkFixture) plans(t *testing.T) ([]store.StockLine, []store.PriceLine) {
	t.Helper()
	ctx := context.Background()
	s, err := f.db.Store.ChannelByID(ctx, f.ch)
	if err != nil {
		t.Fatal(err)
	}
	stock, err := f.db.Store.StockPlan(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	price, err := f.db.Store.PricePlan(ctx, f.ch)
	if err != nil {
		t.Fatal(err)
	}
	return stock, price
}

func (f linkFixture) unlinkedLines(t *testing.T, channelID int64) []string {
	t.Helper()
	lines, err := f.db.Store.UnlinkedLines(context.Background(), channelID, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range lines {
		out = append(out, l.OrderNumber+":"+l.SKU)
	}
	return out
}

// A link makes the push send the linked item's stock (less what open orders of the
// listing's SKU reserve) and price to a listing whose SKU is no stock item's, and
// re-processes the order lines of its SKU on its channel only: the open ones
// reserve the item, the shipped one is no longer unlinked. Linking again changes
// nothing; a new order's lines take the link at download; unlinking gives the
// open lines back to their own SKU and keeps the shipped one's record.
func TestLinkRoutesStockPriceAndReservationsThroughTheLink(t *testing.T) {
	f := newLinkFixture(t)
	ctx := context.Background()
	st := f.db.Store

	if stock, price := f.plans(t); len(stock) != 0 || len(price) != 0 {
		t.Fatalf("before any link the plans hold %+v and %+v, want nothing", stock, price)
	}
	unlinked, total, err := st.UnlinkedListings(ctx, f.ch, 100)
	if err != nil || total != 4 || len(unlinked) != 4 {
		t.Fatalf("unlinked listings = %+v (%d, %v), want 4", unlinked, total, err)
	}
	if u := unlinked[0]; u.ProductID != 2 || u.Reason != "empty" {
		t.Errorf("first unlinked listing = %+v, want the empty SKU first", u)
	}
	if got := f.unlinkedLines(t, f.ch); len(got) != 2 {
		t.Fatalf("unlinked lines before = %v, want the open and the shipped one", got)
	}

	res, err := st.LinkListing(ctx, f.ch, "shop", f.red, "STOCK-1", "test")
	if err != nil {
		t.Fatal(err)
	}
	if !res.Changed || res.StockSKU != "STOCK-1" || res.Previous != "" || res.LinesRelinked != 2 || res.OpenLines != 1 || res.Reserved != 2 {
		t.Fatalf("link = %+v; want changed, 2 lines re-processed, 1 open line reserving 2", res)
	}
	stock, price := f.plans(t)
	if len(stock) != 1 || len(price) != 1 {
		t.Fatalf("after the link the plans hold %+v and %+v, want listing 1 in each", stock, price)
	}
	if s := stock[0]; s.ProductID != 1 || s.SKU != "STOCK-1" || s.ListingSKU != "EKM-RED" || s.Level != 10 || s.Reserved != 2 || s.Desired != 8 {
		t.Errorf("stock line = %+v; want STOCK-1's level 10 less 2 reserved", s)
	}
	if p := price[0]; p.SKU != "STOCK-1" || p.ListingSKU != "EKM-RED" || p.Desired != 500 {
		t.Errorf("price line = %+v; want STOCK-1's 5.00", p)
	}
	if got := f.unlinkedLines(t, f.ch); len(got) != 0 {
		t.Errorf("unlinked lines of shop after the link = %v, want none", got)
	}
	if got := f.unlinkedLines(t, f.other); len(got) != 1 {
		t.Errorf("unlinked lines of the other channel = %v: a link is its channel's only", got)
	}
	reserved, err := st.ReservedBySKU(ctx)
	if err != nil || reserved["STOCK-1"] != 2 || reserved["EKM-RED"] != 5 {
		t.Errorf("reserved = %v (%v); want STOCK-1 2 (shop's line), EKM-RED 5 (the other channel's, unlinked)", reserved, err)
	}
	audit, err := st.AuditLog(ctx, "shop", "listing.", 10)
	if err != nil || len(audit) != 1 || audit[0].Action != "listing.link" || audit[0].Subject != "1" || audit[0].NewValue != "STOCK-1" {
		t.Errorf("audit = %+v (%v), want one listing.link of 1 to STOCK-1", audit, err)
	}

	again, err := st.LinkListing(ctx, f.ch, "shop", f.red, "STOCK-1", "test")
	if err != nil || again.Changed || again.LinesRelinked != 0 || again.Reserved != 2 {
		t.Fatalf("linking again = %+v (%v), want no change", again, err)
	}

	// The order download links a new line of the SKU at once.
	row := orderRow(4, true, false, "open")
	row.OrderNumber = "N-4"
	_, err = st.WriteOrderPage(ctx, store.OrderPage{ChannelID: f.ch, Orders: []store.OrderWrite{{Action: store.OrderStore, Order: row,
		Lines: []store.OrderLineRow{{EKMItemID: 1, SKU: "EKM-RED", Quantity: 3, Raw: []byte(`{"product_id":1}`)}}}}})
	if err != nil {
		t.Fatal(err)
	}
	if reserved, _ = st.ReservedBySKU(ctx); reserved["STOCK-1"] != 5 {
		t.Errorf("reserved after a new order = %v, want STOCK-1 5", reserved)
	}
	rates, err := st.StockTaxRates(ctx, f.ch, []string{"EKM-RED", "NONE"})
	if _, ok := rates["EKM-RED"]; err != nil || !ok || len(rates) != 1 {
		t.Errorf("tax rates = %v (%v); want EKM-RED's through the link only", rates, err)
	}

	off, err := st.UnlinkListing(ctx, f.ch, "shop", f.red, "test")
	if err != nil || !off.Changed || off.Previous != "STOCK-1" || off.StockSKU != "" || off.LinesRelinked != 2 {
		t.Fatalf("unlink = %+v (%v); want the 2 open lines back to no stock item", off, err)
	}
	if got := f.unlinkedLines(t, f.ch); len(got) != 2 || strings.Contains(strings.Join(got, ","), "2/TEST") {
		t.Errorf("unlinked lines after the unlink = %v, want the two open ones (the shipped one keeps its record)", got)
	}
	if stock, _ := f.plans(t); len(stock) != 0 {
		t.Errorf("after the unlink the stock plan holds %+v", stock)
	}
	if again, err = st.UnlinkListing(ctx, f.ch, "shop", f.red, "test"); err != nil || again.Changed {
		t.Errorf("unlinking again = %+v (%v), want no change", again, err)
	}
}

// A link is what makes a listing with an empty or shared SKU linked: it leaves
// the SKU problems and the unlinked report, and joins the plans.
func TestLinkFixesListingsWithSKUProblems(t *testing.T) {
	f := newLinkFixture(t)
	ctx := context.Background()
	st := f.db.Store
	empty, err := st.ListingByRef(ctx, f.ch, "shop", store.ListingKey{ProductID: 2}, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.LinkListing(ctx, f.ch, "shop", empty, "STOCK-1", "test"); err != nil {
		t.Fatal(err)
	}
	problems, err := st.ListingProblems(ctx, f.ch)
	if err != nil || len(problems) != 2 || problems[0].SKU != "DUP" {
		t.Errorf("SKU problems = %+v (%v), want only the two DUP listings", problems, err)
	}
	counts, err := st.CountListings(ctx, f.ch)
	if err != nil || counts.Linked != 1 || counts.Links != 1 || counts.EmptySKUs != 0 || counts.DuplicateSKUs != 2 {
		t.Errorf("counts = %+v (%v)", counts, err)
	}
	if stock, _ := f.plans(t); len(stock) != 1 || stock[0].ProductID != 2 || stock[0].SKU != "STOCK-1" {
		t.Errorf("stock plan = %+v, want listing 2 from STOCK-1", stock)
	}
	links, err := st.ListingLinks(ctx, f.ch)
	if err != nil || len(links) != 1 || links[0].ProductID != 2 || links[0].StockSKU != "STOCK-1" {
		t.Errorf("links = %+v (%v)", links, err)
	}
	if _, total, _ := st.UnlinkedListings(ctx, f.ch, 1); total != 3 {
		t.Errorf("unlinked listings = %d, want 3", total)
	}
}

// Each wrong argument gets an error that names it and what to do next.
func TestLinkRefusesWhatDoesNotExist(t *testing.T) {
	f := newLinkFixture(t)
	ctx := context.Background()
	st := f.db.Store
	_, err := st.LinkListing(ctx, f.ch, "shop", f.red, "NO-SUCH", "test")
	if !errors.Is(err, store.ErrNotFound) || !strings.Contains(err.Error(), "no stock item has SKU NO-SUCH") ||
		!strings.Contains(err.Error(), "starter stock set NO-SUCH") {
		t.Errorf("link to a missing stock item: %v", err)
	}
	_, err = st.ListingByRef(ctx, f.ch, "shop", store.ListingKey{ProductID: 9, VariantID: 1}, "")
	if !errors.Is(err, store.ErrNotFound) || !strings.Contains(err.Error(), "product id 9 and variant id 1") ||
		!strings.Contains(err.Error(), "starter listings download shop") {
		t.Errorf("a missing listing: %v", err)
	}
	_, err = st.ListingByRef(ctx, f.ch, "shop", store.ListingKey{}, "DUP")
	if err == nil || !strings.Contains(err.Error(), "several listings") || !strings.Contains(err.Error(), "3/31, 4") {
		t.Errorf("an SKU of two listings: %v", err)
	}
	if l, err := st.ListingByRef(ctx, f.ch, "shop", store.ListingKey{}, "EKM-RED"); err != nil || l.ProductID != 1 {
		t.Errorf("listing by SKU = %+v, %v", l, err)
	}
	if _, err := f.db.Pool.Exec(ctx, `UPDATE listings SET removed_at = now() WHERE channel_id = $1 AND product_id = 1`, f.ch); err != nil {
		t.Fatal(err)
	}
	removed, _ := st.ListingByRef(ctx, f.ch, "shop", store.ListingKey{ProductID: 1}, "")
	if _, err := st.LinkListing(ctx, f.ch, "shop", removed, "STOCK-1", "test"); err == nil || !strings.Contains(err.Error(), "removed") {
		t.Errorf("link of a removed listing: %v", err)
	}
}
