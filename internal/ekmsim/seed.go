package ekmsim

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ekmsync/ekmsync/internal/ekm"
)

// Order generation. Totals follow the ASSUMED rule in assumed.go: item_price
// is the net unit price, item_tax the line's tax, and
// total_cost = sub_total + total_delivery + total_tax - discounts_total.

// seedWindow is how far back seeded orders go.
const seedWindow = 60 * 24 * time.Hour

// line is an order line before it gets ids.
type line struct {
	productID  int64
	code, name string
	options    string
	price      float64 // net unit price
	qty        int64
	taxRate    float64
	taxID      int32
}

// seedOrders generates o.Orders orders over the last 60 days, in date order
// (so ids ascend with order_date), covering every shop status and every
// payment state at least once when there are enough orders.
func seedOrders(st *store, g *generator, n int, now time.Time) {
	dates := make([]time.Time, n)
	for i := range dates {
		dates[i] = ekmTime(now.Add(-time.Duration(g.rng.Int64N(int64(seedWindow)))))
	}
	slices.SortFunc(dates, time.Time.Compare)
	statuses := make([]string, n)
	pays := make([]paymentState, n)
	for i, d := range dates {
		statuses[i] = g.seedStatus(now.Sub(d))
		pays[i] = g.paymentFor(statuses[i])
	}
	for i, idx := range g.rng.Perm(n)[:min(n, len(st.statuses))] {
		statuses[idx] = strings.ToUpper(st.statuses[i].Name)
	}
	for i, idx := range g.rng.Perm(n)[:min(n, int(paymentStates))] {
		pays[idx] = paymentState(i)
	}
	for i, d := range dates {
		st.addOrder(g.newOrder(st, d, statuses[i], pays[i], g.randomLines(st), now))
	}
}

// seedStatus draws a status by the order's age: recent orders are mostly
// pending or processing, older ones mostly dispatched or complete.
func (g *generator) seedStatus(age time.Duration) string {
	if age < 48*time.Hour {
		return weighted(g, []string{"PENDING", "PROCESSING", "AWAITING STOCK", "FAILED", "DISPATCHED"}, []int{35, 35, 10, 10, 10})
	}
	return weighted(g, []string{"COMPLETE", "DISPATCHED", "PROCESSING", "REFUNDED", "DECLINED", "FAILED", "PENDING", "AWAITING STOCK"},
		[]int{45, 25, 5, 7, 6, 6, 3, 3})
}

// paymentFor draws a payment state that fits the status.
func (g *generator) paymentFor(status string) paymentState {
	switch status {
	case "FAILED", "DECLINED":
		return weighted(g, []paymentState{paymentFailed, paymentUnknown}, []int{80, 20})
	case "PENDING":
		return weighted(g, []paymentState{paidWithTransaction, paidNoTransaction, paymentUnknown}, []int{40, 20, 40})
	}
	return weighted(g, []paymentState{paidWithTransaction, paidNoTransaction}, []int{95, 5})
}

// weighted picks from values with the given integer weights.
func weighted[T any](g *generator, values []T, weights []int) T {
	total := 0
	for _, w := range weights {
		total += w
	}
	n := g.rng.IntN(total)
	for i, w := range weights {
		if n < w {
			return values[i]
		}
		n -= w
	}
	return values[len(values)-1]
}

// randomLines draws 1 to 5 lines from the catalogue; about 3% of lines name a
// SKU the catalogue does not have (a discontinued item).
func (g *generator) randomLines(st *store) []line {
	n := weighted(g, []int{1, 2, 3, 4, 5}, []int{45, 25, 15, 10, 5})
	lines := make([]line, 0, n)
	for range n {
		if len(st.products) == 0 || g.chance(0.03) {
			lines = append(lines, g.discontinuedLine())
			continue
		}
		l := catalogueLine(pick(g, st.products), g.rng.IntN(8))
		l.qty = int64(weighted(g, []int{1, 2, 3, 4}, []int{75, 15, 7, 3}))
		lines = append(lines, l)
	}
	return lines
}

// catalogueLine is a line for product p; if p has variants, variant
// which%len(variants) is the one bought.
func catalogueLine(p *productRec, which int) line {
	l := line{
		productID: p.product.ID, code: p.product.ProductCode, name: p.product.Name,
		price: p.product.Price, qty: 1, taxRate: standardTaxRate, taxID: taxRateStandard,
	}
	if !p.product.TaxApplicable {
		l.taxRate, l.taxID = 0, taxRateZero
	}
	if len(p.variants) > 0 {
		v := p.variants[which%len(p.variants)].variant
		l.productID, l.code, l.price = v.ID, v.ProductCode, v.Price
		for _, c := range v.VariantCombinations {
			l.options = c.VariantName + ": " + c.VariantChoice
		}
	}
	return l
}

// discontinuedLine is a line whose SKU is not in the catalogue (see
// unlistedProductID in assumed.go).
func (g *generator) discontinuedLine() line {
	return line{
		productID: unlistedProductID, code: fmt.Sprintf("DISC-%04d", g.between(1, 9999)), name: "Discontinued item", price: g.price(5, 40),
		qty: 1, taxRate: standardTaxRate, taxID: taxRateStandard,
	}
}

// newOrder builds an order with the next id from a date, a status, a payment
// state and lines, with a generated customer and consistent totals.
func (g *generator) newOrder(st *store, date time.Time, status string, pay paymentState, lines []line, now time.Time) *orderRec {
	id := st.nextOrder
	st.nextOrder++
	c := g.customer()
	dm := pick(g, deliveryMethods)
	o := ekm.Order{
		ID:              id,
		OrderNumber:     fmt.Sprintf("%d/%s/%02d", id, date.Format("020106"), g.between(10, 99)),
		OrderDate:       ekm.Time{Time: date},
		Status:          status,
		DeliveryMethod:  dm.name,
		OrderType:       "",
		ShippingCompany: dm.company,
		IPAddress:       g.ipAddress(),
		GUID:            g.uuid(),
		DeliveryTaxRate: ptrTo(standardTaxRate),
		// Delivery is priced net, its tax counted in total_tax (see assumed.go).
		DeliveryIncludesTax: ptrTo(int32(0)),
		CustomerDetails: ekm.CustomerDetails{
			CustomerID: c.id, EmailAddress: c.email, FirstName: c.first, LastName: c.last,
			Company: c.addr.Company, Address: c.addr.Address, Address2: c.addr.Address2, Town: c.addr.Town,
			County: c.addr.County, Country: c.addr.Country, FriendlyCountry: c.addr.FriendlyCountry,
			PostCode: c.addr.PostCode, Telephone: c.phone, BillingAddressVerified: g.chance(0.8),
		},
	}
	g.payment(&o, pay)
	o.IsConfirmed = o.PaymentStatus == "SUCCESS"
	o.Emailed = status != "PENDING"
	ship := c.addr
	if g.chance(0.25) {
		o.UseShippingAddress = true
		ship = g.address(c.first, c.last)
		ship.CustomerID = c.id
	}
	if c.id != 0 {
		ship.CreatedDate = &ekm.Time{Time: date}
		ship.ModifiedDate = &ekm.Time{Time: date}
		ship.IsPreferredBillingAddress = !o.UseShippingAddress
		ship.IsPreferredShippingAddress = true
	}
	o.ShippingAddress = &ship
	if g.chance(0.1) {
		o.CustomerFacingNotes = pick(g, customerNotes)
	}
	if (status == "DISPATCHED" || status == "COMPLETE") && g.chance(0.7) {
		o.DeliveryTrackingCompany = dm.company
		o.DeliveryTrackingNumber, o.DeliveryTrackingURL = g.tracking(dm.company)
	}
	updated := date
	if status != "PENDING" {
		span := max(0, min(now.Sub(date), 7*24*time.Hour))
		updated = ekmTime(date.Add(time.Duration(g.rng.Int64N(int64(span) + 1))))
	}
	o.LastUpdated = &ekm.Time{Time: updated}
	discount := 0.0
	if g.chance(0.1) {
		o.Discounts = "SPRING10: 10% off"
		discount = -1 // filled once the subtotal is known
	}
	return st.finishOrder(o, lines, dm.price, discount)
}

// finishOrder gives the lines ids and computes the order's totals; a negative
// discount means 10% of the subtotal.
func (st *store) finishOrder(o ekm.Order, lines []line, delivery, discount float64) *orderRec {
	items := make([]ekm.OrderItem, len(lines))
	sub, tax := 0.0, 0.0
	for i, l := range lines {
		net := money(l.price * float64(l.qty))
		itemTax := money(net * l.taxRate / 100)
		items[i] = ekm.OrderItem{
			ID: st.nextItem, ItemID: int32(st.nextItem), ItemName: l.name, ItemOptions: l.options,
			ItemPrice: l.price, ItemTax: itemTax, ItemTaxID: l.taxID, ItemTaxRate: l.taxRate,
			OrderNumber: o.OrderNumber, Quantity: l.qty, ProductID: l.productID, OrderID: o.ID, ProductCode: l.code,
		}
		st.nextItem++
		sub += net
		tax += itemTax
	}
	if discount < 0 {
		discount = money(sub * 0.1)
	}
	deliveryTax := money(delivery * standardTaxRate / 100)
	o.SubTotal = money(sub)
	o.TotalDelivery = delivery
	o.TotalTax = money(tax + deliveryTax)
	o.DiscountsTotal = discount
	o.TotalCost = money(o.SubTotal + o.TotalDelivery + o.TotalTax - o.DiscountsTotal)
	return &orderRec{order: o, items: items}
}
