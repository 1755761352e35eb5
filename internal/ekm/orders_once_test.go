package ekm

import (
	"net/http"
	"testing"
)

// An order PUT that fails ambiguously (EKM may have acted) is not resent: a
// status change e-mails the customer, and the push must reach EKM exactly once.
// The caller re-reads the order instead. A 429, where EKM did nothing, is retried.
func TestOrderPutsAreNotResentAfterAnAmbiguousFailure(t *testing.T) {
	calls := map[string]func(c *Client) error{
		"status": func(c *Client) error {
			_, err := c.UpdateOrderStatus(t.Context(), 7, OrderStatusUpdate{Status: "DISPATCHED"})
			return err
		},
		"tracking": func(c *Client) error {
			_, err := c.UpdateDeliveryTracking(t.Context(), 7, DeliveryTracking{Number: "RM1"})
			return err
		},
		"notes": func(c *Client) error { _, err := c.UpdateInternalNotes(t.Context(), 7, "n"); return err },
	}
	for name, call := range calls {
		h, n := countingHandler(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusBadGateway) })
		err := call(newTestClient(t, h, Config{}))
		if KindOf(err) != KindRetryable || n.Load() != 1 {
			t.Errorf("%s: %d calls, err %v; want one call and a retryable error", name, n.Load(), err)
		}
		h, n = countingHandler(func(w http.ResponseWriter, r *http.Request) {
			if n.Load() == 1 {
				w.Header().Set("Retry-After", "0")
				w.WriteHeader(http.StatusTooManyRequests)
				return
			}
			writeEnvelope(w, 200, map[string]any{"id": 7, "order_number": "1", "order_date": "2024-01-01T00:00:00Z"}, nil)
		})
		if err := call(newTestClient(t, h, Config{})); err != nil || n.Load() != 2 {
			t.Errorf("%s after a 429: %d calls, err %v; want the retry to succeed", name, n.Load(), err)
		}
	}
}
