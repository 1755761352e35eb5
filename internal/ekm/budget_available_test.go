package ekm

import (
	"testing"
	"testing/synctest"
)

func TestBudgetAvailableForLeavesTheHigherPrioritiesTheirReserve(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := NewBudget(40, 2)
		for range 30 {
			if err := b.Acquire(t.Context(), PriorityOrders); err != nil {
				t.Fatal(err)
			}
		}
		for p, want := range map[Priority]float64{PriorityOrders: 10, PriorityStock: 8, PriorityListings: 6} {
			if got := b.AvailableFor(p); got != want {
				t.Errorf("AvailableFor(%s) = %v, want %v", p, got, want)
			}
		}
		if got := b.Available(); got != 10 {
			t.Errorf("Available = %v, want 10", got)
		}
	})
}
