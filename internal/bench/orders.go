package bench

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/ekmsync/ekmsync/activities"
	"github.com/ekmsync/ekmsync/internal/ekmsim"
	"github.com/ekmsync/ekmsync/internal/harness"
)

// OrderSyncThroughput measures one order sync of 1,000 new orders against an
// accelerated bucket (40 requests, leaking 40/s: twenty times EKM's rate, so the
// run takes seconds): EKM requests per new order (one items call each plus its
// share of the 20-order pages; goal at most 1.1), and efficiency, the requests
// made against what the bucket allows over the sync's duration (goal at least
// 0.95).
var OrderSyncThroughput = Benchmark{Name: "order sync throughput", Run: runOrderSyncThroughput}

// OrderWebhookLatency measures, at EKM's real 2 requests/second, how long a new
// order takes from its creation on EKM (which posts order.created to the worker's
// receiver) to its row in PostgreSQL, while the channel's listing download of
// 20,000 products saturates the rate budget (goal under 3 s).
var OrderWebhookLatency = Benchmark{Name: "order webhook latency during a listing download", Run: runOrderWebhookLatency}

func runOrderSyncThroughput(tb harness.TB) ([]Row, error) {
	const n = 1000
	const size, leak = 40, 40.0
	h := harness.New(tb, harness.Options{Sim: ekmsim.Options{Seed: 31, Products: 200, VariantShare: 0.3, BucketSize: size, LeakPerSecond: leak},
		Channel: "bench-orders", NoChannel: true}) // a name of its own: workflow IDs derive from it
	now := time.Now()
	for i := range n {
		status := "Processing"
		if i%10 < 3 {
			status = "Pending"
		}
		h.Sim.CreateOrder(ekmsim.OrderSpec{Status: status, OrderDate: now.Add(-time.Duration(n-i) * 8 * time.Minute)})
	}
	// The orders exist before the channel subscribes to webhooks: the sync alone brings them in.
	h.AddChannel(h.Channel, []string{"download-unpaid=on"}, false)
	time.Sleep(time.Duration(float64(size)/leak*float64(time.Second)) + time.Second) // let the bucket drain
	before := h.Sim.RequestCounts()
	h.MustCLI("channel", "set", h.Channel, "enabled=on") // not 'channel enable': its first listing download would count
	var res *activities.SyncOrdersResult
	deadline := time.Now().Add(5 * time.Minute)
	for res == nil {
		if time.Now().After(deadline) {
			return nil, errors.New("the first sync did not finish in 5 minutes")
		}
		time.Sleep(200 * time.Millisecond)
		st, err := h.Workflows.OrderSyncStatus(context.Background(), h.Channel)
		if err == nil && st.LastResult != nil {
			res = st.LastResult
		}
	}
	after := h.Sim.RequestCounts()
	requests := 0
	for _, route := range []string{"GET /api/v2/orders/search", "GET /api/v2/orders/{id}", "GET /api/v2/orders/{id}/items"} {
		requests += after[route] - before[route]
	}
	elapsed := res.FinishedAt.Sub(res.StartedAt)
	perOrder := float64(requests) / float64(max(res.New, 1))
	allowance := size + leak*elapsed.Seconds()
	efficiency := float64(requests) / allowance
	return []Row{
		{Benchmark: fmt.Sprintf("order sync: EKM requests per new order (%d new)", res.New), Measured: fmt.Sprintf("%.3f", perOrder),
			Goal: "<= 1.1", Met: perOrder <= 1.1, Note: fmt.Sprintf("%d requests, %d pages", requests, res.Pages)},
		{Benchmark: fmt.Sprintf("order sync efficiency (bucket %d, leaking %.0f/s)", size, leak), Measured: fmt.Sprintf("%.3f", efficiency),
			Goal: ">= 0.95", Met: efficiency >= 0.95, Note: fmt.Sprintf("%d requests in %s, allowance %.0f", requests, elapsed.Round(time.Millisecond), allowance)},
	}, nil
}

func runOrderWebhookLatency(tb harness.TB) ([]Row, error) {
	const samples = 12
	h := harness.New(tb, harness.Options{Sim: ekmsim.Options{Seed: 32, Products: 20000, VariantShare: 0.3, BucketSize: 40, LeakPerSecond: 2},
		Channel: "bench-webhooks"})
	ctx := context.Background()
	if err := saturateWithListingDownload(h); err != nil {
		return nil, err
	}
	var latencies []time.Duration
	for range samples {
		// The simulator posts order.created to the worker's receiver (the channel
		// subscribed at 'channel add'), which signals the loop to fetch the order by id.
		start := time.Now()
		o := h.Sim.CreateOrder(ekmsim.OrderSpec{Status: "Processing"})
		for {
			var n int
			if err := h.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM orders WHERE ekm_order_id = $1`, o.ID).Scan(&n); err != nil {
				return nil, err
			}
			if n > 0 {
				break
			}
			if time.Since(start) > time.Minute {
				st, _ := h.Workflows.OrderSyncStatus(ctx, h.Channel)
				return nil, fmt.Errorf("order %d not in the hub a minute after its webhook (loop %+v)", o.ID, st)
			}
			time.Sleep(10 * time.Millisecond)
		}
		latencies = append(latencies, time.Since(start))
		time.Sleep(2 * time.Second)
	}
	pages, err := listingPagesDone(h)
	if err != nil {
		return nil, err
	}
	slices.Sort(latencies)
	median, worst := latencies[len(latencies)/2], latencies[len(latencies)-1]
	note := fmt.Sprintf("%d samples through the simulator's webhook and the worker's receiver; the listing download fetched %d pages meanwhile", samples, pages)
	return []Row{
		{Benchmark: "order webhook to PostgreSQL during a listing download at 2 req/s: median", Measured: median.Round(time.Millisecond).String(),
			Goal: "< 3s", Met: median < 3*time.Second, Note: note},
		{Benchmark: "order webhook to PostgreSQL during a listing download at 2 req/s: max", Measured: worst.Round(time.Millisecond).String(),
			Goal: "< 3s", Met: worst < 3*time.Second},
	}, nil
}

// saturateWithListingDownload starts the channel's listing download and waits until
// it has drained the bucket, so that what follows competes with it for EKM's budget.
func saturateWithListingDownload(h *harness.Env) error {
	if _, errOut, code := h.CLI("listings", "download", h.Channel); code != 0 {
		return fmt.Errorf("listings download: %s", errOut)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		pages, err := listingPagesDone(h)
		if err != nil {
			return err
		}
		if pages >= 45 { // 40 from the full bucket, then the leak: saturated
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the listing download fetched only %d pages in 2 minutes", pages)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// listingPagesDone is the listing download's committed page count.
func listingPagesDone(h *harness.Env) (int, error) {
	st, err := h.Store().ListingDownload(context.Background(), h.Settings().ID)
	return st.PagesDone, err
}
