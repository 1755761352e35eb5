package bench

import (
	"fmt"
	"slices"
	"time"

	"github.com/ekmsync/ekmsync/internal/ekm"
	"github.com/ekmsync/ekmsync/internal/ekmsim"
	"github.com/ekmsync/ekmsync/internal/harness"
	"github.com/ekmsync/ekmsync/internal/store/hubtest"
)

// despatchGoal is the goal for ship-to-dispatched latency.
const despatchGoal = 2 * time.Second

// despatchSamples is how many orders the benchmark ships.
const despatchSamples = 10

// PushDespatchLatency measures the time from 'starter orders ship' to EKM showing
// the order dispatched (its status mapped to Shipped), while the channel's listing
// download saturates the shop's rate budget at EKM's real rate (a bucket of 40
// leaking 2 per second).
var PushDespatchLatency = Benchmark{Name: "push-despatch-latency", Run: runPushDespatchLatency}

func runPushDespatchLatency(tb harness.TB) ([]Row, error) {
	h := harness.New(tb, harness.Options{Sim: ekmsim.Options{Seed: 7, Products: 20000, VariantShare: 0.3,
		BucketSize: ekm.DefaultBucketSize, LeakPerSecond: ekm.DefaultLeakPerSecond}, Channel: "bench-despatch"})
	if err := saturateWithListingDownload(h); err != nil {
		return nil, err
	}
	channelID := h.Settings().ID
	products := h.Sim.Products()
	var latencies []time.Duration
	for i := range despatchSamples {
		sku := products[i%len(products)].ProductCode
		o := h.Sim.CreateOrder(ekmsim.OrderSpec{Status: "Awaiting Stock", PaymentStatus: "FAILED", Lines: []ekmsim.LineSpec{{ProductCode: sku, Quantity: 1}}})
		hubID := hubtest.InsertOrder(tb, h.DB.Pool, hubtest.Order{ChannelID: channelID, EKMOrderID: o.ID, Number: o.OrderNumber,
			Lines: []hubtest.Line{{SKU: sku, Quantity: 1}}})
		time.Sleep(2 * time.Second) // let the download drain the bucket again
		start := time.Now()
		if _, errOut, code := h.CLI("orders", "ship", fmt.Sprint(hubID), "--tracking", fmt.Sprintf("RM%06d", i), "--carrier", "Royal Mail"); code != 0 {
			return nil, fmt.Errorf("orders ship: exit %d: %s", code, errOut)
		}
		for {
			got, _ := h.Sim.Order(o.ID)
			if got.Status == "DISPATCHED" {
				break
			}
			if time.Since(start) > time.Minute {
				return nil, fmt.Errorf("order %d not dispatched after a minute", o.ID)
			}
			time.Sleep(5 * time.Millisecond)
		}
		latencies = append(latencies, time.Since(start))
	}
	pages, err := listingPagesDone(h)
	if err != nil {
		return nil, err
	}
	slices.Sort(latencies)
	median, worst := latencies[len(latencies)/2], latencies[len(latencies)-1]
	stats := h.Sim.RequestStats()
	note := fmt.Sprintf("%d orders; the listing download fetched %d pages meanwhile; %d answers were 429", len(latencies), pages, stats.RateLimited)
	return []Row{
		{Benchmark: "despatch: ship to EKM dispatched during a listing download at 2 req/s: median", Measured: seconds(median),
			Goal: "< " + seconds(despatchGoal), Met: median < despatchGoal, Note: note},
		{Benchmark: "despatch: ship to EKM dispatched during a listing download at 2 req/s: max", Measured: seconds(worst),
			Goal: "< " + seconds(despatchGoal), Met: worst < despatchGoal},
	}, nil
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }
