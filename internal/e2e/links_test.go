package e2e

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ekmsync/ekmsync/internal/ekmsim"
	"github.com/ekmsync/ekmsync/internal/harness"
	"github.com/ekmsync/ekmsync/internal/store/hubtest"
)

// unlinkedJSON is what the test reads of 'listings unlinked --json'.
type unlinkedJSON struct {
	UnlinkedListings int `json:"unlinked_listings"`
	Listings         []struct {
		ProductID int64  `json:"product_id"`
		SKU       string `json:"sku"`
		Reason    string `json:"reason"`
	} `json:"listings"`
	Lines []struct {
		EKMOrderID int64  `json:"ekm_order_id"`
		SKU        string `json:"sku"`
	} `json:"lines"`
}

// rows names the report's rows: "listing <product> <sku> <reason>" and
// "line <order> <sku>".
func (u unlinkedJSON) rows() []string {
	var out []string
	for _, l := range u.Listings {
		out = append(out, fmt.Sprintf("listing %d %s %s", l.ProductID, l.SKU, l.Reason))
	}
	for _, l := range u.Lines {
		out = append(out, fmt.Sprintf("line %d %s", l.EKMOrderID, l.SKU))
	}
	return out
}

// linkJSON is what the test reads of 'listings link --json' and 'unlink --json'.
type linkJSON struct {
	StockSKU      string `json:"stock_sku"`
	Previous      string `json:"previous"`
	Changed       bool   `json:"changed"`
	LinesRelinked int    `json:"lines_relinked"`
	OpenLines     int    `json:"open_lines"`
	Reserved      int64  `json:"reserved"`
}

// A listing whose SKU (EKM-RED) is no stock item's is in the unlinked report with
// the order line the order sync downloaded for it, and EKM gets nothing for it.
// 'listings link' to the stock item STOCK-1 re-processes that line (it then
// reserves STOCK-1), the push sends STOCK-1's level less the reservation and its
// price to the listing, and the report is empty; an order downloaded after the
// link reserves through it at once. Wrong arguments get errors that say what to
// do; 'unlink' puts the listing back in the report.
func TestSKULinkThroughTheCLI(t *testing.T) {
	p := newPushEnv(t, harness.Options{Settings: []string{"price-change=on"}})
	sku, stock, price := "EKM-RED", int64(0), 10.0
	red := p.Sim.CreateProduct(ekmsim.ProductSpec{ProductCode: &sku, Stock: &stock, Price: &price})
	hubtest.InsertListing(t, p.DB.Pool, hubtest.Listing{ChannelID: p.channelID, ProductID: red.ID, SKU: sku, EKMStock: &stock, EKMPrice: &price})
	p.MustCLI("stock", "set", "STOCK-1", "10")
	p.MustCLI("price", "set", "STOCK-1", "7.50")
	first := p.Sim.CreateOrder(ekmsim.OrderSpec{Status: "Processing", Lines: []ekmsim.LineSpec{{ProductCode: sku, Quantity: 2}}})
	syncNow(t, p.Env)

	var before unlinkedJSON
	p.CLIJSON(&before, "listings", "unlinked", p.Channel)
	want := []string{fmt.Sprintf("listing %d EKM-RED no stock item", red.ID), fmt.Sprintf("line %d EKM-RED", first.ID)}
	if got := before.rows(); !slices.Equal(got, want) || before.UnlinkedListings != 1 {
		t.Fatalf("unlinked before the link = %v (%d listings), want %v", got, before.UnlinkedListings, want)
	}
	p.pushNow()
	if w := p.writes(ekmsim.KindProductStock, ekmsim.WriteFilter{ProductID: red.ID}); len(w) != 0 {
		t.Fatalf("an unlinked listing got stock writes: %+v", w)
	}

	// Wrong arguments: each error names the problem and what to do.
	for _, c := range []struct {
		args []string
		code int
		says string
	}{
		{[]string{"listings", "link", p.Channel, "sku:EKM-RED", "NOPE"}, 1, "starter stock set NOPE"},
		{[]string{"listings", "link", p.Channel, "999999", "STOCK-1"}, 1, "has no listing with product id 999999"},
		{[]string{"listings", "link", "no-such-channel", "1", "STOCK-1"}, 1, "starter channel list"},
		{[]string{"listings", "link", p.Channel, "red", "STOCK-1"}, 2, "<product id>/<variant id>"},
		{[]string{"listings", "link", p.Channel, "1"}, 2, "missing <stock-sku>"},
	} {
		out, errOut, code := p.CLI(c.args...)
		if code != c.code || !strings.Contains(errOut, c.says) {
			t.Errorf("%v: exit %d, stderr %q, stdout %q; want exit %d saying %q", c.args, code, errOut, out, c.code, c.says)
		}
	}

	var linked linkJSON
	p.CLIJSON(&linked, "listings", "link", p.Channel, "sku:EKM-RED", "STOCK-1")
	if !linked.Changed || linked.StockSKU != "STOCK-1" || linked.LinesRelinked != 1 || linked.OpenLines != 1 || linked.Reserved != 2 {
		t.Fatalf("link = %+v; want the downloaded line re-processed, reserving 2", linked)
	}
	p.Eventually(30*time.Second, "EKM shows STOCK-1's level less the reservation, and its price", func() bool {
		got, _ := p.Sim.Product(red.ID)
		return got.NumberInStock == 8 && got.Price == 7.5
	})
	var after unlinkedJSON
	p.CLIJSON(&after, "listings", "unlinked", p.Channel)
	if got := after.rows(); len(got) != 0 {
		t.Fatalf("unlinked after the link = %v, want nothing", got)
	}
	var links struct {
		Links []struct {
			ProductID  int64  `json:"product_id"`
			ListingSKU string `json:"listing_sku"`
			StockSKU   string `json:"stock_sku"`
		} `json:"links"`
	}
	p.CLIJSON(&links, "listings", "links", p.Channel)
	if len(links.Links) != 1 || links.Links[0].ProductID != red.ID || links.Links[0].ListingSKU != sku || links.Links[0].StockSKU != "STOCK-1" {
		t.Fatalf("links = %+v", links)
	}
	var again linkJSON
	p.CLIJSON(&again, "listings", "link", p.Channel, fmt.Sprint(red.ID), "STOCK-1")
	if again.Changed || again.LinesRelinked != 0 {
		t.Fatalf("linking again = %+v, want no change", again)
	}

	// An order downloaded after the link reserves STOCK-1 at once.
	p.Sim.CreateOrder(ekmsim.OrderSpec{Status: "Processing", Lines: []ekmsim.LineSpec{{ProductCode: sku, Quantity: 3}}})
	syncNow(t, p.Env)
	p.Eventually(30*time.Second, "EKM shows the new reservation", func() bool {
		got, _ := p.Sim.Product(red.ID)
		return got.NumberInStock == 5
	})
	var sent []int64
	for _, x := range p.writes(ekmsim.KindProductStock, ekmsim.WriteFilter{ProductID: red.ID}) {
		var body struct {
			Stock int64 `json:"stock"`
		}
		if err := json.Unmarshal(x.Body, &body); err != nil {
			t.Fatalf("stock write %s: %v", x.Body, err)
		}
		sent = append(sent, body.Stock)
	}
	if !slices.Equal(sent, []int64{8, 5}) {
		t.Errorf("stock writes of the listing = %v, want 8 then 5", sent)
	}

	var off linkJSON
	p.CLIJSON(&off, "listings", "unlink", p.Channel, fmt.Sprint(red.ID))
	if !off.Changed || off.Previous != "STOCK-1" || off.StockSKU != "" || off.LinesRelinked != 2 {
		t.Fatalf("unlink = %+v; want both open lines back to no stock item", off)
	}
	var unlinked unlinkedJSON
	p.CLIJSON(&unlinked, "listings", "unlinked", p.Channel)
	if unlinked.UnlinkedListings != 1 || len(unlinked.Lines) != 2 {
		t.Fatalf("unlinked after the unlink = %v", unlinked.rows())
	}
}
