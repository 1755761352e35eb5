package channel

// StockRules are the quantity settings of §3: the channel's, or a listing's with its
// overrides applied.
type StockRules struct {
	MaxListed       int `json:"max_listed"`
	StockPercentage int `json:"stock_percentage"`
	EndWhen         int `json:"end_when"`
}

// Overrides are a listing's own values, which take precedence over the channel's.
type Overrides struct {
	MaxListed       *int `json:"max_listed,omitempty"`
	StockPercentage *int `json:"stock_percentage,omitempty"`
	EndWhen         *int `json:"end_when,omitempty"`
}

// StockRules returns the channel's quantity rules.
func (s Settings) StockRules() StockRules {
	return StockRules{MaxListed: s.MaxListed, StockPercentage: s.StockPercentage, EndWhen: s.EndWhen}
}

// With returns the rules with a listing's overrides applied.
func (r StockRules) With(o Overrides) StockRules {
	if o.MaxListed != nil {
		r.MaxListed = *o.MaxListed
	}
	if o.StockPercentage != nil {
		r.StockPercentage = *o.StockPercentage
	}
	if o.EndWhen != nil {
		r.EndWhen = *o.EndWhen
	}
	return r
}

// Quantity is the number to send to EKM for a listing (§3): the available level is
// the stock level less what open orders reserve, never below 0; at or below End When
// it is 0; otherwise the Stock Percentage of it, rounded down, capped by Max Listed.
func (r StockRules) Quantity(level, reserved int64) int64 {
	available := max(0, level-reserved)
	if r.EndWhen > 0 && available <= int64(r.EndWhen) {
		return 0
	}
	pct := min(max(int64(r.StockPercentage), 0), 100)
	q := available * pct / 100 // integer division rounds down: both are non-negative
	if r.MaxListed > 0 {
		q = min(q, int64(r.MaxListed))
	}
	return q
}
