package refresh

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/ekmsync/ekmsync/internal/ekm"
)

// key is a position in the products search sorted by (last_modified, id): the
// last product read. Paging by key rather than by page number means that a
// product modified while the refresh pages moves behind the key, where a later
// page (or the next refresh) reads it, instead of shifting a page boundary and
// hiding another product.
type key struct {
	at time.Time
	id int64
}

func (k key) less(o key) bool {
	return k.at.Before(o.at) || (k.at.Equal(o.at) && k.id < o.id)
}

// after checks that a page's products come after k in ascending order (the
// search's filter and order; ties by id ASSUMED, docs/ekm-api.md §7) and returns
// the key of its last product. A product whose id or last_modified cannot be read
// is passed over (its listings become a problem); a full page of them cannot move
// the key, which is an error rather than a loop.
func (k key) after(items []json.RawMessage) (key, error) {
	next := k
	for _, raw := range items {
		var p struct {
			ID           int64     `json:"id"`
			LastModified *ekm.Time `json:"last_modified"`
		}
		if json.Unmarshal(raw, &p) != nil || p.ID < 1 || p.LastModified == nil {
			continue
		}
		n := key{at: p.LastModified.Time, id: p.ID}
		if !next.less(n) {
			return k, fmt.Errorf("EKM's product search answered product %d (last_modified %s) after product %d (%s): "+
				"not in the order of its last_modified filter, so the refresh cannot page by it; the full listing download "+
				"still keeps the listings", n.id, n.at.UTC().Format(time.RFC3339Nano), next.id, next.at.UTC().Format(time.RFC3339Nano))
		}
		next = n
	}
	if len(items) >= ekm.MaxPageSize && next == k {
		return k, fmt.Errorf("EKM's product search answered a page of %d products none of which has a readable id and "+
			"last_modified: the refresh cannot move past them; the full listing download records them as listing problems", len(items))
	}
	return next, nil
}
