package channel

import "math"

// Line is one order line's EKM figures, as tax input.
type Line struct {
	Quantity  int64
	UnitPrice float64 // EKM item_price: a unit price, tax-exclusive unless the channel says otherwise (ASSUMED, docs/ekm-api.md §5.2)
	Tax       float64 // EKM item_tax: the line's tax
	TaxRate   float64 // EKM item_tax_rate, percent
	Discount  float64 // EKM item_discount, for the line
	HubRate   *float64
}

// LineFigures are the hub's figures for a line.
type LineFigures struct {
	TaxRate float64 `json:"tax_rate"`
	Net     float64 `json:"net"`
	Tax     float64 `json:"tax"`
	Gross   float64 `json:"gross"`
}

// LineTax returns a line's figures (§1, Use EKM tax settings). On: EKM's figures as
// EKM reports them. Off: tax recomputed with the hub's rate for the item (or the
// channel's default rate) from EKM's unit price, treated as tax-exclusive unless
// Prices include tax is on.
func (s Settings) LineTax(l Line) LineFigures {
	if s.UseEKMTax {
		net := round2(l.UnitPrice*float64(l.Quantity) - l.Discount)
		return LineFigures{TaxRate: l.TaxRate, Net: net, Tax: round2(l.Tax), Gross: round2(net + l.Tax)}
	}
	rate := s.DefaultTaxRate
	if l.HubRate != nil {
		rate = *l.HubRate
	}
	line := l.UnitPrice*float64(l.Quantity) - l.Discount
	if s.PricesIncludeTax {
		gross := round2(line)
		net := round2(gross / (1 + rate/100))
		return LineFigures{TaxRate: rate, Net: net, Tax: round2(gross - net), Gross: gross}
	}
	net := round2(line)
	tax := round2(net * rate / 100)
	return LineFigures{TaxRate: rate, Net: net, Tax: tax, Gross: round2(net + tax)}
}

// round2 rounds money to pennies, half away from zero.
func round2(x float64) float64 { return math.Round(x*100) / 100 }
