package bench

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/ekmsim"
	"github.com/ekmsync/ekmsync/internal/harness"
)

// ManyShops is issue 14's many shops: 500 channels on one worker process, each
// its own shop on a simulator farm (own client, tokens and bucket), with every
// loop running and every channel's listing download started. While the
// downloads run it creates orders on random shops and times EKM's webhook to
// the order in PostgreSQL, and reads the worker's memory; then two more worker
// processes join, orders keep arriving, one of the new workers is killed with
// SIGKILL, and every order must be in the hub exactly once.
//
// The shops are small and slow so that 500 downloads stay running on a 2-core
// machine within the measurement: manyShopsProducts products each (50 pages),
// and a bucket of 8 leaking 0.5 a second (so 500 shops make at most 250
// requests a second together; a listing download may use 4 of the 8, the order
// fetches the rest). The 1,000 loops start first, and the downloads once their
// start has passed (quietTasks); the webhooks are timed once the downloads' start
// has passed too, while they run.
var ManyShops = Benchmark{Name: "many-shops", Run: runManyShops}

const (
	manyShops         = 500
	manyShopsProducts = 1000
	manyShopsOrders   = 120 // per phase
)

func runManyShops(tb harness.TB) ([]Row, error) {
	ctx := context.Background()
	started := time.Now()
	f, err := newFleet(tb, fleetOptions{shops: manyShops, products: manyShopsProducts, bucket: 8, leak: 0.5, workers: 3,
		settings: []channel.Change{{Key: "order-sync-interval", Value: "1m"}}})
	if err != nil {
		return nil, err
	}
	setup := time.Since(started)
	settled, err := quietTasks(f.h.WorkerAdminAddr(0), "the setup", 5*time.Minute)
	if err != nil {
		return nil, err
	}
	// Then every download starts, and the webhooks are timed while they run,
	// once their own start has passed too.
	if err := f.startDownloads(ctx); err != nil {
		return nil, err
	}
	downloadsSettled, err := quietTasks(f.h.WorkerAdminAddr(0), "the downloads started", 3*time.Minute)
	if err != nil {
		return nil, err
	}
	inProgressBefore, err := f.downloadsInProgress(ctx)
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(14, 500))
	w := newOrderWatch(f)
	lat1, late, err := w.arrive(ctx, rng, manyShopsOrders, 250*time.Millisecond, nil)
	if err != nil {
		return nil, err
	}
	inProgressAfter, err := f.downloadsInProgress(ctx)
	if err != nil {
		return nil, err
	}
	one := scrapeWork(f.h.WorkerAdminAddr(0))
	rss, err := peakRSS(f.h.WorkerPID())
	if err != nil {
		return nil, err
	}

	// Phase 2: three workers, one killed mid-traffic.
	for i := 1; i < 3; i++ {
		if err := f.h.TryStartWorkerProcess(i); err != nil {
			return nil, err
		}
	}
	time.Sleep(10 * time.Second) // the new workers poll
	var victimWork workDone
	_, _, err = w.arrive(ctx, rng, manyShopsOrders, 250*time.Millisecond, func(i int) {
		if i == manyShopsOrders/3 {
			victimWork = scrapeWork(f.h.WorkerAdminAddr(2))
			f.h.KillWorkerProcess(2)
		}
	})
	if err != nil {
		return nil, err
	}
	lost, dup, err := w.settle(ctx, 3*time.Minute)
	if err != nil {
		return nil, err
	}
	spread := []workDone{scrapeWork(f.h.WorkerAdminAddr(0)), scrapeWork(f.h.WorkerAdminAddr(1)), victimWork}

	p50, p99 := percentile(lat1, 0.50), percentile(lat1, 0.99)
	return []Row{
		{Benchmark: fmt.Sprintf("%d channels on one worker: worker RSS", manyShops), Measured: fmt.Sprintf("%.0f MB", float64(rss)/(1<<20)),
			Goal: "< 1 GB", Met: rss < 1<<30,
			Note: fmt.Sprintf("VmHWM of the worker process; every channel's order sync, push loop and listing Schedule running; setup of the %d channels %s", manyShops, setup.Round(time.Second))},
		{Benchmark: fmt.Sprintf("%d channels, all listing downloads running: webhook → order in PostgreSQL, p50 / p99", manyShops),
			Measured: fmt.Sprintf("%s / %s", p50.Round(time.Millisecond), p99.Round(time.Millisecond)), Goal: "< 1 s / < 5 s",
			Met: late == 0 && p50 < time.Second && p99 < 5*time.Second,
			Note: fmt.Sprintf("%d orders on random shops, 4 a second (%d not in the hub 2 min after the last: their waits so far counted); listing downloads in progress %d before and %d after (of %d); %d shops of %d products, bucket 8 leaking 0.5/s; order-priority requests waited %.2f s for budget on average (%.0f requests); the downloads started once the loops' start had passed (%s), the webhooks timed once the downloads' start had passed too (%s)",
				len(lat1), late, inProgressBefore, inProgressAfter, manyShops, manyShops, manyShopsProducts, one.orderWait/max(one.orderWaits, 1), one.orderWaits, settled, downloadsSettled)},
		{Benchmark: fmt.Sprintf("3 workers × %d channels, one killed: orders lost or duplicated", manyShops), Measured: fmt.Sprintf("%d lost, %d duplicated", lost, dup),
			Goal: "0", Met: lost == 0 && dup == 0,
			Note: fmt.Sprintf("%d orders in both phases; the third worker killed with SIGKILL after a third of the second phase's %d", len(w.created), manyShopsOrders)},
		{Benchmark: "same: work spread across the three workers (EKM requests, order fetches, channels served)", Measured: spreadText(spread),
			Note: "from each worker's /metrics (ekmsync_ekm_requests_total, ekmsync_orders_total); the killed worker's as scraped just before its kill; the first worker carried phase 1 alone"},
	}, nil
}

// orderWatch creates orders on the fleet's shops and watches them land in the hub.
type orderWatch struct {
	f       *fleet
	mu      sync.Mutex
	created map[orderKey]time.Time
}

type orderKey struct {
	shop string
	id   int64
}

func newOrderWatch(f *fleet) *orderWatch { return &orderWatch{f: f, created: map[orderKey]time.Time{}} }

// arrive creates n orders on random shops, one every gap, and returns the time
// each took from its creation (when EKM sends the webhook) to its row in the
// hub; each(i) runs before the i-th. Orders not in the hub 2 minutes after the
// last was created are late: their waits so far count, and late says how many.
func (w *orderWatch) arrive(ctx context.Context, rng *rand.Rand, n int, gap time.Duration, each func(int)) (lat []time.Duration, late int, err error) {
	pending := map[orderKey]time.Time{}
	deadline := time.Now().Add(time.Duration(n)*gap + 2*time.Minute)
	next := time.Now()
	for i := 0; i < n || len(pending) > 0; {
		if time.Now().After(deadline) {
			// Too late for a latency: each counts as the time it has waited, and
			// the caller reports how many were late.
			_ = os.WriteFile(os.TempDir()+"/ekmsync-many-shops-worker.log", []byte(w.f.h.WorkerLog()+"\n"+metricsDigest(w.f.h.WorkerAdminAddr(0))), 0o644)
			for _, at := range pending {
				lat = append(lat, time.Since(at))
			}
			return lat, len(pending), nil
		}
		if i < n && !time.Now().Before(next) {
			if each != nil {
				each(i)
			}
			name := w.f.names[rng.IntN(len(w.f.names))]
			o := w.f.farm.Shop(name).CreateOrder(ekmsim.OrderSpec{Status: "Processing"})
			k := orderKey{name, o.ID}
			now := time.Now()
			pending[k] = now
			w.mu.Lock()
			w.created[k] = now
			w.mu.Unlock()
			i++
			next = next.Add(gap)
		}
		landed, err := w.landed(ctx, pending)
		if err != nil {
			return nil, 0, err
		}
		for k, at := range landed {
			lat = append(lat, at.Sub(pending[k]))
			delete(pending, k)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return lat, 0, nil
}

// landed returns which of pending are in the hub, each with the time it was seen.
func (w *orderWatch) landed(ctx context.Context, pending map[orderKey]time.Time) (map[orderKey]time.Time, error) {
	if len(pending) == 0 {
		return nil, nil
	}
	var shops []string
	var ids []int64
	for k := range pending {
		shops, ids = append(shops, k.shop), append(ids, k.id)
	}
	rows, err := w.f.h.DB.Pool.Query(ctx, `SELECT c.name, o.ekm_order_id FROM orders o JOIN channels c ON c.id = o.channel_id
		JOIN unnest($1::text[], $2::bigint[]) AS p(name, id) ON p.name = c.name AND p.id = o.ekm_order_id`, shops, ids)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	now := time.Now()
	out := map[orderKey]time.Time{}
	for rows.Next() {
		var k orderKey
		if err := rows.Scan(&k.shop, &k.id); err != nil {
			return nil, err
		}
		out[k] = now
	}
	return out, rows.Err()
}

// settle waits until every order created is in the hub (or timeout), and
// returns how many are missing and how many extra rows there are.
func (w *orderWatch) settle(ctx context.Context, timeout time.Duration) (lost, duplicated int, err error) {
	var shops []string
	var ids []int64
	for k := range w.created {
		shops, ids = append(shops, k.shop), append(ids, k.id)
	}
	deadline := time.Now().Add(timeout)
	for {
		var found, rows int
		err = w.f.h.DB.Pool.QueryRow(ctx, `SELECT count(DISTINCT (c.name, o.ekm_order_id)), count(*) FROM orders o JOIN channels c ON c.id = o.channel_id
			JOIN unnest($1::text[], $2::bigint[]) AS p(name, id) ON p.name = c.name AND p.id = o.ekm_order_id`, shops, ids).Scan(&found, &rows)
		if err != nil {
			return 0, 0, err
		}
		lost, duplicated = len(w.created)-found, rows-found
		if lost == 0 || time.Now().After(deadline) {
			return lost, duplicated, nil
		}
		time.Sleep(time.Second)
	}
}

// workDone is what one worker process did, read from its /metrics.
type workDone struct {
	requests, newOrders   float64
	orderWait, orderWaits float64 // the order priority's total wait for budget (s), and its requests
	channels              int
	err                   error
}

// scrapeWork reads a worker's EKM requests, new orders and the channels it made
// requests for from its admin listener's /metrics.
func scrapeWork(adminAddr string) workDone {
	var d workDone
	channels := map[string]bool{}
	d.err = scrapeMetrics(adminAddr, func(line string, v float64) {
		switch {
		case strings.HasPrefix(line, "ekmsync_ekm_requests_total{"):
			d.requests += v
			if c, ok := label(line, "channel"); ok && v > 0 {
				channels[c] = true
			}
		case strings.HasPrefix(line, "ekmsync_orders_total{") && strings.Contains(line, `outcome="new"`):
			d.newOrders += v
		case strings.HasPrefix(line, `ekmsync_budget_wait_seconds_sum{priority="orders"}`):
			d.orderWait = v
		case strings.HasPrefix(line, `ekmsync_budget_wait_seconds_count{priority="orders"}`):
			d.orderWaits = v
		}
	})
	d.channels = len(channels)
	return d
}

// scrapeMetrics reads a worker's /metrics and calls each with every sample line
// and its value.
func scrapeMetrics(adminAddr string, each func(line string, value float64)) error {
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get("http://" + adminAddr + "/metrics")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		i := strings.LastIndexByte(line, ' ')
		if i < 0 || strings.HasPrefix(line, "#") {
			continue
		}
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			each(line, v)
		}
	}
	return sc.Err()
}

// label returns the value of a Prometheus text line's label.
func label(line, name string) (string, bool) {
	_, rest, ok := strings.Cut(line, name+`="`)
	if !ok {
		return "", false
	}
	v, _, ok := strings.Cut(rest, `"`)
	return v, ok
}

func spreadText(ws []workDone) string {
	var parts []string
	for i, w := range ws {
		if w.err != nil {
			parts = append(parts, fmt.Sprintf("worker %d: no metrics (%v)", i+1, w.err))
			continue
		}
		parts = append(parts, fmt.Sprintf("worker %d: %.0f requests, %.0f orders, %d channels", i+1, w.requests, w.newOrders, w.channels))
	}
	return strings.Join(parts, "; ")
}

// percentile is the p-quantile of ds (nearest rank), 0 for none.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(math.Ceil(p*float64(len(s)))) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// metricsDigest is the lines of a worker's /metrics that say where time goes:
// task latencies, webhook outcomes, budget waits.
func metricsDigest(adminAddr string) string {
	var b strings.Builder
	err := scrapeMetrics(adminAddr, func(l string, _ float64) {
		for _, p := range []string{"temporal_workflow_task_schedule_to_start_latency_seconds_sum", "temporal_workflow_task_schedule_to_start_latency_seconds_count",
			"temporal_activity_schedule_to_start_latency_seconds_sum", "temporal_activity_schedule_to_start_latency_seconds_count",
			"ekmsync_webhooks_total", "ekmsync_budget_wait_seconds_sum", "ekmsync_budget_wait_seconds_count",
			"temporal_workflow_task_execution_latency_seconds_sum", "temporal_workflow_task_execution_latency_seconds_count",
			"temporal_sticky_cache_size", "temporal_worker_task_slots_available", "temporal_num_pollers", "temporal_request_failure_total", "ekmsync_orders_total{channel=\"shop-001\""} {
			if strings.HasPrefix(l, p) {
				b.WriteString(l + "\n")
			}
		}
	})
	if err != nil {
		return err.Error()
	}
	return b.String()
}

// settleLag is the mean workflow-task schedule-to-start below which the
// worker's loops count as settled.
const settleLag = 250 * time.Millisecond

// quietTasks waits until the start of the fleet's loops (or downloads) has passed:
// starting 1,000 loops, or 500 downloads, at once queues their first workflow
// tasks for tens of seconds on the dev server, and a webhook timed then
// measures the start, not the loops running. Settled is when the worker's workflow tasks, over each of
// two 10-second windows in a row, waited less than settleLag on average to
// start (its temporal_workflow_task_schedule_to_start_latency). It says how long
// that took, or, after timeout, that the tasks still wait (and the webhooks
// are timed anyway).
func quietTasks(adminAddr, since string, timeout time.Duration) (string, error) {
	start := time.Now()
	prev, err := taskLag(adminAddr)
	if err != nil {
		return "", err
	}
	calm, mean := 0, time.Duration(0)
	for time.Since(start) < timeout {
		time.Sleep(10 * time.Second)
		cur, err := taskLag(adminAddr)
		if err != nil {
			return "", err
		}
		n := cur.count - prev.count
		mean = time.Duration(float64(time.Second) * (cur.sum - prev.sum) / max(n, 1))
		if n > 0 && mean < settleLag {
			calm++
		} else {
			calm = 0
		}
		prev = cur
		if calm == 2 {
			return fmt.Sprintf("workflow tasks started within %s on average over 20 s, %s after %s", settleLag, time.Since(start).Round(time.Second), since), nil
		}
	}
	return fmt.Sprintf("NOT settled: workflow tasks still waited %s on average to start %s after %s", mean.Round(time.Millisecond), timeout, since), nil
}

// lag is a worker's workflow-task schedule-to-start total (s) and count.
type lag struct{ sum, count float64 }

// taskLag reads a worker's workflow-task schedule-to-start latency totals from its /metrics.
func taskLag(adminAddr string) (lag, error) {
	var l lag
	err := scrapeMetrics(adminAddr, func(line string, v float64) {
		switch {
		case strings.HasPrefix(line, "temporal_workflow_task_schedule_to_start_latency_seconds_sum{"):
			l.sum += v
		case strings.HasPrefix(line, "temporal_workflow_task_schedule_to_start_latency_seconds_count{"):
			l.count += v
		}
	})
	return l, err
}
