package bench

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/ekmsync/ekmsync/internal/ekm"
	"github.com/ekmsync/ekmsync/internal/ekmsim"
	"github.com/ekmsync/ekmsync/internal/harness"
	"github.com/ekmsync/ekmsync/internal/shop"
	"github.com/ekmsync/ekmsync/internal/store/hubtest"
)

// despatchGoal is the goal for ship-to-dispatched latency.
const despatchGoal = 2 * time.Second

// despatchSamples is how many orders the benchmark ships.
const despatchSamples = 10

// PushDespatchLatency measures the time from 'starter orders ship' to EKM showing
// the order dispatched (its status mapped to Shipped), while the shop's rate
// budget is saturated at EKM's real rate (a bucket of 40 leaking 2 per second) by
// a listing download's traffic: a loop paging GET /api/v1/products at
// PriorityListings without pause. The loop runs through its own shop.Connector in
// the benchmark process, as a second worker process would, so the worker's budget
// learns of it only from EKM's rate headers (the harder case; within one worker,
// the shared budget serves the despatch first).
var PushDespatchLatency = Benchmark{Name: "push-despatch-latency", Run: runPushDespatchLatency}

func runPushDespatchLatency(tb harness.TB) ([]Row, error) {
	h := harness.New(tb, harness.Options{Sim: ekmsim.Options{Seed: 7, Products: 400, BucketSize: ekm.DefaultBucketSize, LeakPerSecond: ekm.DefaultLeakPerSecond}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	load, err := listingLoad(ctx, h)
	if err != nil {
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
		time.Sleep(2 * time.Second) // let the load fill the bucket again
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
	cancel()
	pages, loadErr := load()
	if loadErr != nil {
		return nil, fmt.Errorf("listing load: %w", loadErr)
	}
	slices.Sort(latencies)
	median, worst := latencies[len(latencies)/2], latencies[len(latencies)-1]
	stats := h.Sim.RequestStats()
	note := fmt.Sprintf("%d orders; listing load %d pages through the same bucket; %d answers were 429", len(latencies), pages, stats.RateLimited)
	return []Row{
		{Benchmark: "despatch: ship to EKM dispatched, median (listing load at 2 req/s)", Measured: seconds(median),
			Goal: "< " + seconds(despatchGoal), Met: median < despatchGoal, Note: note},
		{Benchmark: "despatch: ship to EKM dispatched, maximum (listing load at 2 req/s)", Measured: seconds(worst),
			Goal: "< " + seconds(despatchGoal), Met: worst < despatchGoal},
	}, nil
}

// listingLoad pages the shop's products at PriorityListings until ctx ends, as a
// listing download does; the returned wait gives the number of pages read.
func listingLoad(ctx context.Context, h *harness.Env) (wait func() (int, error), err error) {
	conn := &shop.Connector{Store: h.Store(), Key: h.Key, HTTP: &http.Client{Timeout: time.Minute}}
	client, err := conn.Client(ctx, h.Settings())
	if err != nil {
		return nil, err
	}
	lctx := ekm.WithPriority(ctx, ekm.PriorityListings)
	var (
		wg    sync.WaitGroup
		pages int
		lerr  error
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for page := 1; ctx.Err() == nil; page++ {
			p, err := client.ListProductsRaw(lctx, page, ekm.MaxPageSize)
			if err != nil {
				if !errors.Is(err, context.Canceled) && ctx.Err() == nil {
					lerr = err
				}
				return
			}
			pages++
			if p.Last() {
				page = 0
			}
		}
	}()
	return func() (int, error) { wg.Wait(); return pages, lerr }, nil
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }
