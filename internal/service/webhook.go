package service

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"go.temporal.io/api/serviceerror"

	"github.com/ekmsync/ekmsync/internal/ekm"
	"github.com/ekmsync/ekmsync/internal/store"
	"github.com/ekmsync/ekmsync/workflows"
)

// OrderHint is the payload of the order-hint signal: an EKM order id to fetch.
type OrderHint = workflows.OrderHint

// webhookHandler receives EKM's order webhooks for a channel at
// POST /webhooks/ekm/{channel}. A webhook is only a hint: nothing in its body is
// trusted beyond the order id, which the order-sync loop then fetches through the
// API. So a forged call can at worst cause one extra read (docs/channel-semantics.md §2).
func webhookHandler(st *store.Store, wf workflows.Starter, logger *slog.Logger) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("channel")
		var ev ekm.WebhookEvent
		if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&ev); err != nil || ev.EntityID <= 0 {
			http.Error(w, "want a JSON body with a positive entity_id", http.StatusBadRequest)
			return
		}
		if _, err := st.Channel(r.Context(), name); errors.Is(err, store.ErrNotFound) {
			http.Error(w, "no such channel", http.StatusNotFound)
			return
		} else if err != nil {
			http.Error(w, "hub unavailable", http.StatusServiceUnavailable) // EKM will retry
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 4*time.Second) // EKM waits 5 s
		defer cancel()
		err := wf.Client.SignalWorkflow(ctx, workflows.OrderSyncID(name), "", workflows.SignalOrderHint, OrderHint{OrderID: ev.EntityID, Topic: ev.Topic})
		var notFound *serviceerror.NotFound
		switch {
		case errors.As(err, &notFound):
			// The loop does not run (channel removed or never started): nothing to wake,
			// and a retry would not help.
			logger.Warn("webhook for a channel whose order sync does not run", "channel", name, "order_id", ev.EntityID)
		case err != nil:
			logger.Warn("webhook: could not signal the order sync", "channel", name, "err", err)
			http.Error(w, "temporarily unavailable", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}
}
