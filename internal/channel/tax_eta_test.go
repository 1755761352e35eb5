package channel

import (
	"testing"
	"time"
)

func TestLineTax(t *testing.T) {
	rate5 := 5.0
	cases := []struct {
		name         string
		useEKM, incl bool
		line         Line
		want         LineFigures
	}{
		{"EKM figures copied", true, false, Line{Quantity: 2, UnitPrice: 2.5, Tax: 1.0, TaxRate: 20}, LineFigures{20, 5, 1, 6}},
		{"EKM figures even when odd", true, false, Line{Quantity: 1, UnitPrice: 10, Tax: 0.37, TaxRate: 20}, LineFigures{20, 10, 0.37, 10.37}},
		{"recomputed with default rate", false, false, Line{Quantity: 3, UnitPrice: 10, Tax: 9, TaxRate: 30}, LineFigures{20, 30, 6, 36}},
		{"recomputed with hub rate", false, false, Line{Quantity: 1, UnitPrice: 10, HubRate: &rate5}, LineFigures{5, 10, 0.5, 10.5}},
		{"prices include tax", false, true, Line{Quantity: 1, UnitPrice: 12}, LineFigures{20, 10, 2, 12}},
		{"discount comes off the line", false, false, Line{Quantity: 2, UnitPrice: 10, Discount: 5}, LineFigures{20, 15, 3, 18}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := testSettings()
			s.UseEKMTax, s.PricesIncludeTax = c.useEKM, c.incl
			if got := s.LineTax(c.line); got != c.want {
				t.Fatalf("LineTax = %+v, want %+v", got, c.want)
			}
		})
	}
}

func TestEstimateCompletion(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if got := EstimateCompletion(ETAInput{Now: now, PagesLeft: 10}); !got.IsZero() {
		t.Fatalf("unknown total gave %v", got)
	}
	// Budget-bound: 100 pages, 20 tokens in the bucket, 2/s: (100-20)/2 = 40 s.
	got := EstimateCompletion(ETAInput{Now: now, PagesLeft: 100, Rate: 2, Burst: 20, PerPage: 50 * time.Millisecond, TotalKnown: true})
	if want := now.Add(40 * time.Second); !got.Equal(want) {
		t.Fatalf("budget-bound = %v, want %v", got, want)
	}
	// Work-bound: no real limit, 200 ms a page.
	got = EstimateCompletion(ETAInput{Now: now, PagesLeft: 100, Rate: 1000, Burst: 40, PerPage: 200 * time.Millisecond, TotalKnown: true})
	if want := now.Add(20 * time.Second); !got.Equal(want) {
		t.Fatalf("work-bound = %v, want %v", got, want)
	}
	// Orders took part of the budget: the download has had 1.25 pages/s, not 2:
	// (100-20)/1.25 = 64 s. A pace faster than the budget allows is not believed.
	got = EstimateCompletion(ETAInput{Now: now, PagesLeft: 100, Rate: 2, Burst: 20, Observed: 1.25, PerPage: 50 * time.Millisecond, TotalKnown: true})
	if want := now.Add(64 * time.Second); !got.Equal(want) {
		t.Fatalf("budget shared with orders = %v, want %v", got, want)
	}
	got = EstimateCompletion(ETAInput{Now: now, PagesLeft: 100, Rate: 2, Burst: 20, Observed: 5, PerPage: 50 * time.Millisecond, TotalKnown: true})
	if want := now.Add(40 * time.Second); !got.Equal(want) {
		t.Fatalf("a pace above the budget's rate = %v, want %v", got, want)
	}
	if got := EstimateCompletion(ETAInput{Now: now, PagesLeft: 0, TotalKnown: true}); !got.Equal(now) {
		t.Fatalf("done = %v", got)
	}
}
