package order

import (
	"encoding/json"
	"math"
	"strings"
	"time"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/ekm"
	"github.com/ekmsync/ekmsync/internal/store"
)

// Row is the hub's row for an EKM order under the channel's settings and the
// rules' decision. lines are nil for an order already in the hub (its lines and
// hub figures are those of its first download).
func Row(s channel.Settings, o ekm.Order, raw json.RawMessage, d channel.OrderDecision, items []ekm.OrderItem,
	rates map[string]*float64) (store.OrderRow, []store.OrderLineRow) {
	row := store.OrderRow{
		EKMOrderID:    o.ID,
		OrderNumber:   o.OrderNumber,
		OrderDate:     o.OrderDate.Time,
		EKMStatus:     o.Status,
		PaymentStatus: o.PaymentStatus,
		TransactionID: o.TransactionID,
		Paid:          d.Paid,
		Parked:        d.Parked,
		Status:        d.Status,
		Currency:      s.Currency,
		CustomerName:  strings.TrimSpace(o.CustomerDetails.FirstName + " " + o.CustomerDetails.LastName),
		CustomerEmail: o.CustomerDetails.EmailAddress,
		TaxSource:     "ekm",
		EKM: store.Totals{SubTotal: o.SubTotal, TotalDelivery: o.TotalDelivery, TotalTax: o.TotalTax,
			TotalCost: o.TotalCost, DiscountsTotal: o.DiscountsTotal},
		Raw:               raw,
		EKMDeliveryMethod: o.DeliveryMethod,
	}
	row.DeliveryService, row.DeliveryUnmapped = s.DeliveryService(o.DeliveryMethod)
	if o.LastUpdated != nil && !o.LastUpdated.IsZero() {
		t := o.LastUpdated.Time
		row.EKMLastUpdated = &t
	}
	if o.ShippingAddress != nil {
		row.ShippingAddress, _ = json.Marshal(o.ShippingAddress)
	}
	row.Hub = row.EKM
	if items == nil {
		return row, nil
	}
	lines := make([]store.OrderLineRow, 0, len(items))
	var net, tax float64
	for _, it := range items {
		rate, linked := rates[it.ProductCode]
		f := s.LineTax(channel.Line{Quantity: it.Quantity, UnitPrice: it.ItemPrice, Tax: it.ItemTax,
			TaxRate: it.ItemTaxRate, Discount: it.ItemDiscount, HubRate: rate})
		itemRaw, _ := json.Marshal(it)
		lines = append(lines, store.OrderLineRow{
			EKMItemID: it.ID, SKU: it.ProductCode, Name: it.ItemName, Options: it.ItemOptions, Quantity: it.Quantity,
			EKMUnitPrice: it.ItemPrice, EKMTax: it.ItemTax, EKMTaxRate: it.ItemTaxRate, EKMDiscount: it.ItemDiscount,
			TaxRate: f.TaxRate, Net: f.Net, Tax: f.Tax, Gross: f.Gross, Linked: linked && it.ProductCode != "", Raw: itemRaw,
		})
		net += f.Net
		tax += f.Tax
	}
	if !s.UseEKMTax {
		row.TaxSource = "hub"
		row.Hub = hubTotals(s, o, net, tax)
	}
	return row, lines
}

// hubTotals recomputes an order's figures with the hub's rates (Use EKM tax
// settings off): the lines' net and tax as LineTax computed them, plus delivery
// taxed at the channel's default rate (net, or gross when prices include tax),
// less EKM's order-level discounts. EKM's own figures are kept beside them.
func hubTotals(s channel.Settings, o ekm.Order, linesNet, linesTax float64) store.Totals {
	f := s.LineTax(channel.Line{Quantity: 1, UnitPrice: o.TotalDelivery})
	t := store.Totals{
		SubTotal:       round2(linesNet),
		TotalDelivery:  f.Net,
		TotalTax:       round2(linesTax + f.Tax),
		DiscountsTotal: o.DiscountsTotal,
	}
	t.TotalCost = round2(t.SubTotal + t.TotalDelivery + t.TotalTax - t.DiscountsTotal)
	return t
}

// round2 rounds money to pennies, half away from zero, as channel.LineTax does.
func round2(x float64) float64 { return math.Round(x*100) / 100 }

// Decide applies the order rules to an EKM order and the hub's copy.
func Decide(s channel.Settings, o ekm.Order, hub *store.OrderState, now time.Time) channel.OrderDecision {
	f := channel.OrderFacts{Status: o.Status, Paid: o.Paid(), OrderDate: o.OrderDate.Time, Now: now}
	if hub != nil {
		f.InHub, f.HubStatus = true, hub.Status
	}
	return s.DecideOrder(f)
}

// UnknownStatus says why an order's status cannot be used, or "": empty, or not
// one of the shop's statuses (when they are known). Such an order is
// quarantined until the operator re-reads the statuses and maps it.
func UnknownStatus(s channel.Settings, status string) string {
	if strings.TrimSpace(status) == "" {
		return "the order has no status"
	}
	if len(s.ShopStatuses) == 0 {
		return ""
	}
	for _, known := range s.ShopStatuses {
		if strings.EqualFold(known, status) {
			return ""
		}
	}
	for known := range s.Mapping {
		if strings.EqualFold(known, status) {
			return ""
		}
	}
	return "status " + status + " is not one of the shop's statuses (" + strings.Join(s.ShopStatuses, ", ") +
		"): run 'starter channel test " + s.Name + "' to re-read them, then map it with 'starter channel set " + s.Name +
		" status:<status>=<target>'"
}

// MayBecomePaid reports whether a skipped order could be downloaded once EKM
// marks it paid, so that it is watched.
func MayBecomePaid(d channel.OrderDecision) bool {
	return d.Action == channel.ActionSkip && (d.Target == channel.Paid || d.Target == channel.Unmapped || d.Target == channel.Unpaid)
}
