package e2e

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/ekmsync/ekmsync/internal/ekmsim"
	"github.com/ekmsync/ekmsync/internal/harness"
	"github.com/ekmsync/ekmsync/workflows"
)

// No channel's order sync waits behind another channel's listing download (issue
// 14): with the worker's listing slots (EKMSYNC_LISTING_SLOTS=1) all taken by a
// download whose page EKM does not answer, and a second channel's download
// waiting for a slot, an order sync still fetches a new order into the hub.
func TestOrderSyncIsServedWhileListingDownloadsFillTheirSlots(t *testing.T) {
	h := harness.New(t, harness.Options{NoChannel: true, ListingSlots: 1, Sim: ekmsim.Options{Seed: 14, Products: 60, Orders: 2}})
	stall := &stalledProducts{release: make(chan struct{})}
	proxy := httptest.NewServer(stall.handler(t, h.SimURL))
	t.Cleanup(proxy.Close)
	t.Cleanup(stall.releaseAll) // before the proxy closes: its held requests end first
	h.SimURL = proxy.URL        // both channels reach the shop through the stalling proxy
	for _, name := range []string{"slots-a", "slots-b"} {
		h.AddChannel(name, []string{"order-sync-interval=1h"}, true)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// Channel a's download takes the one listing slot and stalls on its first page.
	if _, err := h.Workflows.StartListingDownload(ctx, "slots-a"); err != nil {
		t.Fatal(err)
	}
	h.Eventually(time.Minute, "channel a's listing download asks EKM for a page", func() bool { return stall.held.Load() > 0 })
	// Channel b's download waits for a slot: its activity is scheduled on the
	// listing queue, not started.
	if _, err := h.Workflows.StartListingDownload(ctx, "slots-b"); err != nil {
		t.Fatal(err)
	}
	waiting := func() bool {
		d, err := h.Temporal.DescribeWorkflowExecution(ctx, workflows.ListingDownloadID("slots-b"), "")
		if err != nil {
			return false
		}
		for _, a := range d.GetPendingActivities() {
			if a.GetState() == enumspb.PENDING_ACTIVITY_STATE_SCHEDULED {
				return true
			}
		}
		return false
	}
	h.Eventually(time.Minute, "channel b's listing activity is scheduled and waits for the slot", waiting)

	// An order arrives on the shop; channel a's order sync fetches it meanwhile.
	order := h.Sim.CreateOrder(ekmsim.OrderSpec{Status: "Processing"})
	if _, err := h.Workflows.SyncOrdersNow(ctx, "slots-a", workflows.SyncNowInput{}); err != nil {
		t.Fatalf("sync now of channel a while the listing slots are full: %v", err)
	}
	var n int
	if err := h.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM orders o JOIN channels c ON c.id = o.channel_id
		WHERE c.name = 'slots-a' AND o.ekm_order_id = $1`, order.ID).Scan(&n); err != nil || n != 1 {
		t.Fatalf("order %d in the hub for channel a: %d rows (%v), want 1", order.ID, n, err)
	}
	// The slots were full all along: the page is still held, b still waits.
	if stall.held.Load() == 0 || !waiting() {
		t.Fatalf("the listing slot was freed during the order sync (held pages %d); the test proved nothing", stall.held.Load())
	}
}

// stalledProducts is a proxy in front of the simulator that holds every product
// page request until released: a listing download whose EKM does not answer.
type stalledProducts struct {
	held    atomic.Int64
	release chan struct{}
	once    atomic.Bool
}

func (s *stalledProducts) handler(t *testing.T, target string) http.Handler {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/api/v1/products") {
			s.held.Add(1)
			select {
			case <-s.release:
			case <-r.Context().Done():
			}
			s.held.Add(-1)
		}
		rp.ServeHTTP(w, r)
	})
}

func (s *stalledProducts) releaseAll() {
	if s.once.CompareAndSwap(false, true) {
		close(s.release)
	}
}
