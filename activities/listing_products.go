package activities

import (
	"github.com/ekmsync/ekmsync/internal/order"
	"github.com/ekmsync/ekmsync/internal/store"
)

// productProblems are the problem records of a page's unreadable products.
func productProblems(bad []error) []store.ProductProblem {
	out := make([]store.ProductProblem, 0, len(bad))
	for _, err := range bad {
		pr := store.ProductProblem{Key: "unknown", Reason: order.ClipReason(reason(err))}
		if pe, ok := err.(*store.ProductError); ok {
			pr.Key = pe.Key
			if pe.ProductID > 0 {
				id := pe.ProductID
				pr.ProductID = &id
			}
		}
		out = append(out, pr)
	}
	return out
}
