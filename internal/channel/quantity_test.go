package channel

import "testing"

func ptr(n int) *int { return &n }

func TestQuantity(t *testing.T) {
	cases := []struct {
		name            string
		rules           StockRules
		level, reserved int64
		want            int64
	}{
		{"all of it", StockRules{StockPercentage: 100}, 10, 0, 10},
		{"reserved by open orders", StockRules{StockPercentage: 100}, 10, 3, 7},
		{"negative available is 0", StockRules{StockPercentage: 100}, 2, 5, 0},
		{"negative level is 0", StockRules{StockPercentage: 100}, -4, 0, 0},
		{"End When at equality sends 0", StockRules{StockPercentage: 100, EndWhen: 5}, 5, 0, 0},
		{"End When below sends 0", StockRules{StockPercentage: 100, EndWhen: 5}, 4, 0, 0},
		{"End When just above sends all", StockRules{StockPercentage: 100, EndWhen: 5}, 6, 0, 6},
		{"End When counts reservations", StockRules{StockPercentage: 100, EndWhen: 5}, 8, 3, 0},
		{"End When 0 is off", StockRules{StockPercentage: 100, EndWhen: 0}, 0, 0, 0},
		{"percentage rounds down", StockRules{StockPercentage: 50}, 7, 0, 3},
		{"percentage rounds down to 0", StockRules{StockPercentage: 10}, 9, 0, 0},
		{"percentage 0 sends 0", StockRules{StockPercentage: 0}, 100, 0, 0},
		{"cap", StockRules{StockPercentage: 100, MaxListed: 5}, 50, 0, 5},
		{"cap above quantity", StockRules{StockPercentage: 100, MaxListed: 50}, 5, 0, 5},
		{"cap after percentage", StockRules{StockPercentage: 50, MaxListed: 4}, 20, 0, 4},
		{"Max Listed 0 is no cap", StockRules{StockPercentage: 100, MaxListed: 0}, 1000, 0, 1000},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.rules.Quantity(c.level, c.reserved); got != c.want {
				t.Fatalf("Quantity(%d, %d) with %+v = %d, want %d", c.level, c.reserved, c.rules, got, c.want)
			}
		})
	}
}

func TestOverridesTakePrecedence(t *testing.T) {
	channel := StockRules{MaxListed: 100, StockPercentage: 100, EndWhen: 2}
	r := channel.With(Overrides{MaxListed: ptr(3), StockPercentage: ptr(50), EndWhen: ptr(0)})
	if r != (StockRules{MaxListed: 3, StockPercentage: 50, EndWhen: 0}) {
		t.Fatalf("With = %+v", r)
	}
	if got := r.Quantity(2, 0); got != 1 { // End When overridden to off: 50% of 2
		t.Fatalf("Quantity = %d, want 1", got)
	}
	if got := channel.With(Overrides{}).Quantity(2, 0); got != 0 { // channel End When applies
		t.Fatalf("no overrides: Quantity = %d, want 0", got)
	}
}
