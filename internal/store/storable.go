package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgconn"
)

// What EKM sends is made storable here, at the last step before PostgreSQL, so
// that every path that writes EKM data (sync, hints, back-fill, listings) gets
// the same rules. PostgreSQL text cannot hold NUL nor invalid UTF-8 (SQLSTATE
// 22021), and jsonb rejects the escape \u0000 (22P05): both are replaced by
// U+FFFD, which keeps the damage visible instead of silently joining the
// pieces of a name or a SKU. Numbers are checked against the columns' ranges
// (quarantined when they do not fit), never clamped: a clamped quantity or
// price would be a wrong fact in the hub.

// Storable returns s with NUL characters and invalid UTF-8 replaced by U+FFFD;
// a clean string (the usual case) is returned as it is.
func Storable(s string) string {
	if !strings.ContainsRune(s, 0) && utf8.ValidString(s) {
		return s
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.ReplaceAll(s, "\x00", "\uFFFD")
}

// StorableJSON returns raw JSON that a jsonb column accepts: strings (and keys)
// made Storable, numbers kept as written. Clean JSON is returned as it is;
// anything that is not valid JSON becomes a JSON string of its Storable text.
func StorableJSON(raw []byte) string {
	if !bytes.Contains(raw, []byte(`\u0000`)) && utf8.Valid(raw) && !bytes.ContainsRune(raw, 0) {
		return string(raw)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		b, _ := json.Marshal(Storable(string(raw)))
		return string(b)
	}
	b, err := json.Marshal(storableValue(v))
	if err != nil {
		b, _ = json.Marshal(Storable(string(raw)))
	}
	return string(b)
}

func storableValue(v any) any {
	switch x := v.(type) {
	case string:
		return Storable(x)
	case []any:
		for i := range x {
			x[i] = storableValue(x[i])
		}
		return x
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[Storable(k)] = storableValue(e)
		}
		return out
	}
	return v
}

// maxInt4 is the most an integer column holds (order_lines.quantity).
const maxInt4 = math.MaxInt32

// fitsNumeric reports whether x can be stored in a numeric(precision, scale)
// column (migration 001's money and rate columns): finite, and below
// 10^(precision-scale) in magnitude once rounded to scale places.
func fitsNumeric(x float64, precision, scale int) bool {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return false
	}
	return math.Abs(math.Round(x*math.Pow10(scale))) < math.Pow10(precision)
}

// rangeCheck collects the first figure that does not fit its column.
type rangeCheck struct{ err error }

func (c *rangeCheck) numeric(name string, x float64, precision, scale int) {
	if c.err == nil && !fitsNumeric(x, precision, scale) {
		c.err = fmt.Errorf("%s %v does not fit the hub's column (numeric(%d,%d): below %g)", name, x, precision, scale,
			math.Pow10(precision-scale))
	}
}

func (c *rangeCheck) quantity(name string, n int64) {
	if c.err == nil && (n < 0 || n > maxInt4) {
		c.err = fmt.Errorf("%s %d is outside the hub's range (0 to %d)", name, n, maxInt4)
	}
}

// money is numeric(14,4), the orders' and order lines' money columns.
func (c *rangeCheck) money(name string, x float64) { c.numeric(name, x, 14, 4) }

// rate is numeric(6,3), the order lines' tax rates.
func (c *rangeCheck) rate(name string, x float64) { c.numeric(name, x, 6, 3) }

// checkOrder says why an order cannot be stored, or nil: a figure outside its
// column's range. Strings are not checked: prepareOrder makes them storable.
func checkOrder(w OrderWrite) error {
	var c rangeCheck
	for _, t := range []struct {
		who string
		t   Totals
	}{{"EKM's", w.Order.EKM}, {"the hub's", w.Order.Hub}} {
		c.money(t.who+" sub_total", t.t.SubTotal)
		c.money(t.who+" total_delivery", t.t.TotalDelivery)
		c.money(t.who+" total_tax", t.t.TotalTax)
		c.money(t.who+" total_cost", t.t.TotalCost)
		c.money(t.who+" discounts_total", t.t.DiscountsTotal)
	}
	if c.err != nil {
		return fmt.Errorf("order %d: %w", w.Order.EKMOrderID, c.err)
	}
	for _, l := range w.Lines {
		c.quantity("quantity", l.Quantity)
		c.money("item_price", l.EKMUnitPrice)
		c.money("item_tax", l.EKMTax)
		c.rate("item_tax_rate", l.EKMTaxRate)
		c.money("item_discount", l.EKMDiscount)
		c.rate("tax rate", l.TaxRate)
		c.money("net", l.Net)
		c.money("tax", l.Tax)
		c.money("gross", l.Gross)
		if c.err != nil {
			return fmt.Errorf("order %d, item %d: %w", w.Order.EKMOrderID, l.EKMItemID, c.err)
		}
	}
	return nil
}

// prepareOrder makes an order's strings and JSON storable.
func prepareOrder(w OrderWrite) OrderWrite {
	o := &w.Order
	for _, s := range []*string{&o.OrderNumber, &o.EKMStatus, &o.PaymentStatus, &o.TransactionID, &o.CustomerName,
		&o.CustomerEmail, &o.EKMDeliveryMethod} {
		*s = Storable(*s)
	}
	if len(o.ShippingAddress) > 0 {
		o.ShippingAddress = json.RawMessage(StorableJSON(o.ShippingAddress))
	}
	o.Raw = json.RawMessage(StorableJSON(o.Raw))
	if w.Lines != nil {
		lines := make([]OrderLineRow, len(w.Lines))
		for i, l := range w.Lines {
			l.SKU, l.Name, l.Options = Storable(l.SKU), Storable(l.Name), Storable(l.Options)
			if len(l.Raw) > 0 {
				l.Raw = json.RawMessage(StorableJSON(l.Raw))
			}
			lines[i] = l
		}
		w.Lines = lines
	}
	return w
}

// dataError returns the PostgreSQL error of err if it is a data error: class 22
// (data exception) or 23 (integrity constraint violation). Those depend on the
// data written, so the same write fails every time; anything else (a lost
// connection, a serialisation failure) may pass when retried.
func dataError(err error) *pgconn.PgError {
	var pg *pgconn.PgError
	if errors.As(err, &pg) && (strings.HasPrefix(pg.Code, "22") || strings.HasPrefix(pg.Code, "23")) {
		return pg
	}
	return nil
}

// dataReason is the reason a data error gives for quarantining what caused it:
// PostgreSQL's message and SQLSTATE, without its detail (which quotes the row).
func dataReason(pg *pgconn.PgError) string {
	return fmt.Sprintf("the hub refused it: %s (SQLSTATE %s)", Storable(pg.Message), pg.Code)
}
