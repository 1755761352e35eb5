package store

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Pennies is a price in the currency's minor unit (two decimals, as the hub's
// prices column): prices are compared and stored exactly, while EKM's JSON carries
// doubles.
type Pennies int64

// PenniesOf rounds one of EKM's double prices to pennies.
func PenniesOf(f float64) Pennies { return Pennies(math.Round(f * 100)) }

// Float returns the price as EKM's double.
func (p Pennies) Float() float64 { return float64(p) / 100 }

// String writes the price with two decimals, e.g. "12.50".
func (p Pennies) String() string {
	sign := ""
	if p < 0 {
		sign, p = "-", -p
	}
	return fmt.Sprintf("%s%d.%02d", sign, p/100, p%100)
}

// MarshalJSON writes the price as a decimal string, so that no reader meets a
// rounding error.
func (p Pennies) MarshalJSON() ([]byte, error) { return []byte(`"` + p.String() + `"`), nil }

// UnmarshalJSON reads a decimal string or a JSON number.
func (p *Pennies) UnmarshalJSON(b []byte) error {
	v, err := ParsePennies(strings.Trim(string(b), `"`))
	if err != nil {
		return err
	}
	*p = v
	return nil
}

// ParsePennies reads a non-negative price with at most two decimals ("12", "12.5",
// "12.50").
func ParsePennies(s string) (Pennies, error) {
	s = strings.TrimSpace(s)
	whole, frac, hasFrac := strings.Cut(s, ".")
	bad := fmt.Errorf("price %q is not a non-negative amount with at most two decimals, e.g. 12.50", s)
	if whole == "" || len(frac) > 2 || (hasFrac && frac == "") || len(whole) > 10 {
		return 0, bad
	}
	w, err := strconv.ParseUint(whole, 10, 64)
	if err != nil {
		return 0, bad
	}
	var f uint64
	if frac != "" {
		if f, err = strconv.ParseUint(frac, 10, 64); err != nil {
			return 0, bad
		}
		if len(frac) == 1 {
			f *= 10
		}
	}
	return Pennies(w*100 + f), nil
}
