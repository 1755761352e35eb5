package ekm

import "context"

// Priority orders the callers that share one channel's rate budget. The zero
// value means "not set" and is treated as PriorityStock.
type Priority int

const (
	// PriorityListings is the listing download: lowest, it only uses what the
	// others leave.
	PriorityListings Priority = iota + 1
	// PriorityStock is stock and price pushes, and the default for a context
	// without a priority.
	PriorityStock
	// PriorityOrders is order download and despatch: highest, so that an order is
	// never held up by a long listing download.
	PriorityOrders
)

// String names the priority for logs.
func (p Priority) String() string {
	switch p.normalize() {
	case PriorityListings:
		return "listings"
	case PriorityOrders:
		return "orders"
	default:
		return "stock"
	}
}

// normalize maps the zero value and unknown values to the default PriorityStock.
func (p Priority) normalize() Priority {
	if p < PriorityListings || p > PriorityOrders {
		return PriorityStock
	}
	return p
}

// reserve is how many bucket tokens a priority must leave unused. Orders may take
// the whole bucket; stock leaves 2 and listings 4, so that when a listing download
// has filled the bucket to its share an order fetch still finds room at once, and
// a stock push finds room behind at most a couple of listing requests.
func (p Priority) reserve() float64 {
	switch p.normalize() {
	case PriorityOrders:
		return 0
	case PriorityStock:
		return 2
	default:
		return 4
	}
}

// priorityKey is the context key of WithPriority.
type priorityKey struct{}

// WithPriority returns a context whose EKM calls are granted rate budget at
// priority p.
func WithPriority(ctx context.Context, p Priority) context.Context {
	return context.WithValue(ctx, priorityKey{}, p)
}

// PriorityFrom returns the priority set by WithPriority, or PriorityStock when none
// is set: a caller that forgot to choose neither starves listings nor jumps ahead
// of orders.
func PriorityFrom(ctx context.Context) Priority {
	p, _ := ctx.Value(priorityKey{}).(Priority)
	return p.normalize()
}
