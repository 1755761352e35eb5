package activities_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/worker"

	"github.com/ekmsync/ekmsync/activities"
	"github.com/ekmsync/ekmsync/internal/ekmsim"
	"github.com/ekmsync/ekmsync/internal/store/hubtest"
)

// A worker that stops while PushStock waits for EKM does not wait for EKM, nor
// for its stop timeout: the push returns a retryable "worker stopping" error, and
// the send it was making is not recorded as the listing's failure.
func TestPushStockReturnsWhenTheWorkerStops(t *testing.T) {
	ls := newListingShop(t, 3)
	ctx := context.Background()
	var p = ls.sim.Products()[0]
	for _, pr := range ls.sim.Products() {
		if len(pr.Variants) == 0 && pr.ProductCode != "" {
			p = pr
			break
		}
	}
	hubtest.InsertListing(t, ls.db.Pool, hubtest.Listing{ChannelID: ls.ch.ID, ProductID: p.ID, SKU: p.ProductCode, EKMPrice: &p.Price, EKMStock: &p.NumberInStock})
	if _, err := ls.db.Store.SetStockLevel(ctx, p.ProductCode, "", int(p.NumberInStock)+5, "test"); err != nil {
		t.Fatal(err)
	}
	// EKM takes an hour to answer: only the worker's stop can end the push.
	ls.sim.SetFaults(ekmsim.Faults{Latency: 1, LatencyDuration: time.Hour})
	stop := make(chan struct{})
	ls.env.SetWorkerStopChannel(stop)
	ls.env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{&activities.StopInterceptor{}}})

	done := make(chan error, 1)
	go func() {
		_, err := run[activities.StepResult](t, ls, ls.acts.PushStock, activities.PushInput{Channel: "shop"})
		done <- err
	}()
	for !stockPutArrived(ls.sim) {
		select {
		case err := <-done:
			t.Fatalf("the push returned before it reached EKM: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	close(stop)
	var err error
	select {
	case err = <-done:
	case <-time.After(time.Minute): // a hang guard, not a measurement: EKM would answer in an hour
		t.Fatal("the push did not return after the worker's stop")
	}
	if !activities.IsType(err, activities.ErrTypeWorkerStopping) {
		t.Fatalf("push stopped by the worker: %v, want a %s error", err, activities.ErrTypeWorkerStopping)
	}
	var failures int
	if err := ls.db.Pool.QueryRow(ctx, `SELECT count(*) FROM listing_outbound WHERE stock_error IS NOT NULL`).Scan(&failures); err != nil {
		t.Fatal(err)
	}
	if failures != 0 {
		t.Errorf("%d listings recorded a failed send because the worker stopped", failures)
	}
}

// stockPutArrived reports whether a stock write has reached the simulator (it
// counts requests as they arrive, before it answers).
func stockPutArrived(sim *ekmsim.Sim) bool {
	for route, n := range sim.RequestStats().ByRoute {
		if n > 0 && strings.HasPrefix(route, "PUT ") && strings.Contains(route, "stock") {
			return true
		}
	}
	return false
}
