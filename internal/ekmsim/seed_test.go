package ekmsim

import (
	"encoding/json"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ekmsync/ekmsync/internal/ekm"
)

// shopJSON is a shop's whole data, for comparing two shops.
func shopJSON(t *testing.T, sim *Sim) string {
	t.Helper()
	var items [][]ekm.OrderItem
	for _, o := range sim.Orders() {
		it, _ := sim.OrderItems(o.ID)
		items = append(items, it)
	}
	b, err := json.Marshal([]any{sim.Orders(), items, sim.Products()})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSeedRepeatsForASeed(t *testing.T) {
	build := func(seed int64) *Sim {
		o := smallShop()
		o.Seed, o.Now = seed, newFakeClock().Now
		return New(o)
	}
	a, b, other := build(3), build(3), build(4)
	defer a.Close()
	defer b.Close()
	defer other.Close()
	if shopJSON(t, a) != shopJSON(t, b) {
		t.Error("two shops from the same seed differ")
	}
	if shopJSON(t, a) == shopJSON(t, other) {
		t.Error("shops from different seeds are equal")
	}
}

func TestSeedCoversStatusesAndPayments(t *testing.T) {
	for _, n := range []int{12, 300} {
		sim := New(Options{Seed: 5, Products: 20, Orders: n})
		statuses, payments := map[string]bool{}, map[string]bool{}
		for _, o := range sim.Orders() {
			statuses[o.Status] = true
			switch {
			case o.PaymentStatus == "SUCCESS" && o.TransactionID != "":
				payments["paid"] = true
			case o.PaymentStatus == "SUCCESS":
				payments["success-no-transaction"] = true
			default:
				payments[o.PaymentStatus] = true
			}
		}
		for _, s := range sim.Statuses() {
			if !statuses[strings.ToUpper(s.Name)] {
				t.Errorf("%d orders: no order in status %s", n, strings.ToUpper(s.Name))
			}
		}
		for _, p := range []string{"paid", "success-no-transaction", "UNKNOWN", "FAILED"} {
			if !payments[p] {
				t.Errorf("%d orders: no order with payment %s", n, p)
			}
		}
		sim.Close()
	}
}

var (
	orderNumberRE = regexp.MustCompile(`^(\d+)/(\d{6})/\d+$`)
	uuidRE        = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	postcodeRE    = regexp.MustCompile(`^[A-Z]{1,2}\d{1,2} \d[ABDEFGHJLNPQRSTUWXYZ]{2}$`)
	// A duplicated SKU may be copied from a product to a variant or back.
	listingSKURE = regexp.MustCompile(`^SKU-\d{5}(-[A-Z]+)?$`)
)

func TestSeedOrdersAreRealisticAndConsistent(t *testing.T) {
	clk := newFakeClock()
	sim := New(Options{Seed: 9, Products: 100, VariantShare: 0.3, Orders: 300, Now: clk.Now})
	defer sim.Close()
	now := clk.Now()
	skus := map[string]bool{}
	for _, p := range sim.Products() {
		skus[p.ProductCode] = true
		for _, v := range p.Variants {
			skus[v.ProductCode] = true
		}
	}
	listed, unlisted, itemIDs := 0, 0, map[int64]bool{}
	var prev ekm.Order
	for i, o := range sim.Orders() {
		if o.ID != int64(i+1) || (i > 0 && o.OrderDate.Before(prev.OrderDate.Time)) {
			t.Fatalf("order %d: ids must count from 1 in order_date order", o.ID)
		}
		prev = o
		if age := now.Sub(o.OrderDate.Time); age < 0 || age > 60*24*time.Hour {
			t.Errorf("order %d is %v old, want within 60 days", o.ID, age)
		}
		if o.LastUpdated == nil || o.LastUpdated.Before(o.OrderDate.Time) || o.LastUpdated.After(now) {
			t.Errorf("order %d last_updated %v outside [order_date, now]", o.ID, o.LastUpdated)
		}
		m := orderNumberRE.FindStringSubmatch(o.OrderNumber)
		if m == nil || m[2] != o.OrderDate.Format("020106") {
			t.Errorf("order number %q does not match {n}/{DDMMYY}/{n} of %v", o.OrderNumber, o.OrderDate)
		}
		if !uuidRE.MatchString(o.GUID) {
			t.Errorf("guid %q is not a v4 UUID", o.GUID)
		}
		sa, cd := o.ShippingAddress, o.CustomerDetails
		if sa == nil || sa.FirstName == "" || sa.LastName == "" || sa.Address == "" || sa.Town == "" || sa.Country != "GB" || !postcodeRE.MatchString(sa.PostCode) {
			t.Errorf("order %d shipping address %+v", o.ID, sa)
		}
		if !strings.Contains(cd.EmailAddress, "@") || !postcodeRE.MatchString(cd.PostCode) || cd.County == "" {
			t.Errorf("order %d customer %+v", o.ID, cd)
		}
		if o.Paid() != (o.PaymentStatus == "SUCCESS" && o.TransactionID != "") {
			t.Errorf("order %d paid state inconsistent", o.ID)
		}
		items, _ := sim.OrderItems(o.ID)
		if len(items) < 1 || len(items) > 5 {
			t.Errorf("order %d has %d lines, want 1 to 5", o.ID, len(items))
		}
		sub, tax := 0.0, 0.0
		for _, it := range items {
			if itemIDs[it.ID] || it.ID < 1 || it.OrderID != o.ID || it.Quantity < 1 || it.OrderNumber != o.OrderNumber {
				t.Errorf("item %+v", it)
			}
			itemIDs[it.ID] = true
			if skus[it.ProductCode] {
				listed++
			} else if it.ProductCode != "" {
				unlisted++
			}
			net := money(it.ItemPrice * float64(it.Quantity))
			if want := money(net * it.ItemTaxRate / 100); it.ItemTax != want {
				t.Errorf("item %d tax %v, want %v%% of %v", it.ID, it.ItemTax, it.ItemTaxRate, net)
			}
			sub += net
			tax += it.ItemTax
		}
		tax += money(o.TotalDelivery * *o.DeliveryTaxRate / 100)
		if !near(o.SubTotal, sub) || !near(o.TotalTax, tax) || !near(o.TotalCost, o.SubTotal+o.TotalDelivery+o.TotalTax-o.DiscountsTotal) {
			t.Errorf("order %d totals: sub %v tax %v cost %v; lines give sub %v tax %v", o.ID, o.SubTotal, o.TotalTax, o.TotalCost, sub, tax)
		}
	}
	if listed == 0 || unlisted == 0 || unlisted > listed/10 {
		t.Errorf("%d lines with catalogue SKUs and %d without; want mostly catalogue, a few not", listed, unlisted)
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 0.005 }

func TestSeedCatalogue(t *testing.T) {
	const problems = 10
	sim := New(Options{Seed: 11, Products: 200, VariantShare: 0.3, SKUProblems: problems})
	defer sim.Close()
	products := sim.Products()
	if len(products) != 200 || products[0].ID != 1 {
		t.Fatalf("%d products starting at id %d, want 200 from 1", len(products), products[0].ID)
	}
	withVariants, codes, empty := 0, map[string]int{}, 0
	nextID := int64(1)
	for _, p := range products {
		if p.ID != nextID {
			t.Fatalf("product id %d, want %d: products and variants share one increasing id space", p.ID, nextID)
		}
		nextID++
		count := func(code string) {
			if code == "" {
				empty++
				return
			}
			codes[code]++
			if !listingSKURE.MatchString(code) {
				t.Errorf("SKU %q does not look like SKU-00042 or SKU-00042-L", code)
			}
		}
		count(p.ProductCode)
		if *p.ParentProductID != 0 || p.Name == "" || p.Price <= 0 || !strings.HasSuffix(p.SEOFriendlyURL, "-p.asp") {
			t.Errorf("product %+v", p)
		}
		if len(p.Variants) > 0 {
			withVariants++
			if len(p.Variants) < 2 || len(p.Variants) > 4 {
				t.Errorf("product %d has %d variants, want 2 to 4", p.ID, len(p.Variants))
			}
		}
		for _, v := range p.Variants {
			if v.ID != nextID || v.ParentProductID != p.ID || len(v.VariantCombinations) != 1 {
				t.Errorf("variant %+v of product %d (want id %d)", v, p.ID, nextID)
			}
			nextID++
			count(v.ProductCode)
		}
	}
	if withVariants < 30 || withVariants > 90 {
		t.Errorf("%d of 200 products have variants, want about 30%%", withVariants)
	}
	extra := 0
	for _, n := range codes {
		extra += n - 1
	}
	if empty != problems/2 || extra != problems-problems/2 {
		t.Errorf("%d empty SKUs and %d duplicate copies, want %d and %d", empty, extra, problems/2, problems-problems/2)
	}
}
