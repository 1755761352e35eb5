package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ekmsync/ekmsync/internal/contract"
	"github.com/ekmsync/ekmsync/internal/ekmsim"
	"github.com/ekmsync/ekmsync/internal/harness"
	"github.com/ekmsync/ekmsync/internal/webhook"
)

// WebhookForgedFlood posts 10,000 forged webhooks (no token, a wrong token, a
// guessed token, another shop's username with the right token, 63 KB topics,
// unknown channels) naming orders EKM has, to a worker process, and reports the
// EKM requests they caused (goal 0) and the worker's memory growth during the
// flood (goal under 50 MB).
var WebhookForgedFlood = Benchmark{Name: "forged webhook flood", Run: runWebhookForgedFlood}

// WebhookDuplicates posts 10,000 authenticated webhooks, 100 each for 100 orders
// already in the hub, and reports the EKM requests they caused (goal at most
// 110: each id fetched about once).
var WebhookDuplicates = Benchmark{Name: "authenticated duplicate webhooks", Run: runWebhookDuplicates}

const webhookFlood = 10_000

// webhookBench sets up a channel whose 100 orders are in the hub, with a long
// sync interval so that only webhooks can cost requests meanwhile.
func webhookBench(tb harness.TB, name string, seed int64, workerProcess bool) (*harness.Env, []int64, error) {
	h := harness.New(tb, harness.Options{Sim: ekmsim.Options{Seed: seed, Products: 50},
		Channel: name, NoChannel: true, WorkerProcess: workerProcess})
	var ids []int64
	for range 100 {
		ids = append(ids, h.Sim.CreateOrder(ekmsim.OrderSpec{Status: "Processing"}).ID)
	}
	h.AddChannel(h.Channel, []string{"order-sync-interval=1h"}, true)
	if err := settled(h, true); err != nil {
		return nil, nil, err
	}
	var n int
	if err := h.DB.Pool.QueryRow(context.Background(), `SELECT count(*) FROM orders`).Scan(&n); err != nil || n != len(ids) {
		return nil, nil, fmt.Errorf("%d of %d orders in the hub after the first sync (%v)", n, len(ids), err)
	}
	return h, ids, nil
}

// settled waits until the channel's order sync has run (if first) and holds no
// pending hint, twice in a row a second apart.
func settled(h *harness.Env, first bool) error {
	deadline := time.Now().Add(3 * time.Minute)
	calm := 0
	for calm < 2 {
		if time.Now().After(deadline) {
			return errors.New("the order sync did not settle in 3 minutes")
		}
		time.Sleep(time.Second)
		st, err := h.Workflows.OrderSyncStatus(context.Background(), h.Channel)
		if err != nil || (first && st.LastResult == nil) || st.PendingHints() > 0 || st.Phase == contract.PhaseSyncing {
			calm = 0
			continue
		}
		calm++
	}
	return nil
}

// ekmRequests counts every request the simulator served.
func ekmRequests(h *harness.Env) int {
	n := 0
	for _, c := range h.Sim.RequestStats().ByRoute {
		n += c
	}
	return n
}

// flood posts n requests from 32 clients at once; req(i) gives the i-th URL and body.
func flood(n int, req func(i int) (string, string)) (statuses map[int]int) {
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 32}}
	var mu sync.Mutex
	statuses = map[int]int{}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				url, body := req(i)
				code := 0
				if resp, err := client.Post(url, "application/json", strings.NewReader(body)); err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					code = resp.StatusCode
				}
				mu.Lock()
				statuses[code]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return statuses
}

func runWebhookForgedFlood(tb harness.TB) ([]Row, error) {
	h, ids, err := webhookBench(tb, "bench-forged", 41, true)
	if err != nil {
		return nil, err
	}
	url, err := h.WebhookURL()
	if err != nil {
		return nil, err
	}
	token := url[strings.LastIndex(url, "/")+1:]
	base := "http://" + string(h.WorkerConfig.HTTPAddr) + webhook.PathPrefix
	user := h.Settings().ShopUsername
	huge := strings.Repeat("x", 63<<10)
	pid := h.WorkerPID()
	rssBefore, err := procStatusBytes(pid, "VmRSS:")
	if err != nil {
		return nil, err
	}
	var peak atomic.Int64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			if rss, err := procStatusBytes(pid, "VmRSS:"); err == nil && rss > peak.Load() {
				peak.Store(rss)
			}
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	before := ekmRequests(h)
	start := time.Now()
	statuses := flood(webhookFlood, func(i int) (string, string) {
		id := ids[i%len(ids)]
		body := fmt.Sprintf(`{"username":%q,"topic":"order.created","entity_id":%d}`, user, id)
		switch i % 6 {
		case 0: // no token
			return base + h.Channel, body
		case 1: // a wrong token
			return base + h.Channel + "/" + strings.Repeat("A", len(token)), body
		case 2: // a guessed token per request
			return fmt.Sprintf("%s%s/guess%d", base, h.Channel, i), body
		case 3: // the right token, another shop
			return url, fmt.Sprintf(`{"username":"attacker-%d","topic":"order.created","entity_id":%d}`, i, id)
		case 4: // a 63 KB topic, as in issue 12
			return base + h.Channel, fmt.Sprintf(`{"username":%q,"topic":"%s","entity_id":%d}`, user, huge, id)
		}
		return fmt.Sprintf("%sshop%d/%s", base, i, token), body // unknown channels
	})
	elapsed := time.Since(start)
	close(stop)
	<-sampled
	if err := settled(h, false); err != nil {
		return nil, err
	}
	cost := ekmRequests(h) - before
	growth := max(peak.Load()-rssBefore, 0)
	return []Row{
		{Benchmark: fmt.Sprintf("EKM requests caused by %d forged webhooks", webhookFlood), Measured: fmt.Sprint(cost), Goal: "0", Met: cost == 0,
			Note: fmt.Sprintf("in %s; answers %v (no token, wrong or guessed token, another shop's username, 63 KB topics, unknown channels)", elapsed.Round(time.Millisecond), statuses)},
		{Benchmark: "worker RSS growth during the forged flood", Measured: fmt.Sprintf("%.1f MB", float64(growth)/(1<<20)), Goal: "< 50 MB", Met: growth < 50<<20,
			Note: fmt.Sprintf("peak VmRSS sampled every 50 ms against %.1f MB before", float64(rssBefore)/(1<<20))},
	}, nil
}

func runWebhookDuplicates(tb harness.TB) ([]Row, error) {
	h, ids, err := webhookBench(tb, "bench-duplicates", 42, false)
	if err != nil {
		return nil, err
	}
	url, err := h.WebhookURL()
	if err != nil {
		return nil, err
	}
	user := h.Settings().ShopUsername
	before := ekmRequests(h)
	start := time.Now()
	statuses := flood(webhookFlood, func(i int) (string, string) {
		return url, fmt.Sprintf(`{"username":%q,"topic":"order.updated","entity_id":%d}`, user, ids[i%len(ids)])
	})
	elapsed := time.Since(start)
	if err := settled(h, false); err != nil {
		return nil, err
	}
	cost := ekmRequests(h) - before
	var handed int
	if err := h.DB.Pool.QueryRow(context.Background(), `SELECT count(*) FROM webhook_hints WHERE signalled_at > $1`, start).Scan(&handed); err != nil {
		return nil, err
	}
	return []Row{
		{Benchmark: fmt.Sprintf("EKM requests caused by %d authenticated duplicates of %d order ids", webhookFlood, len(ids)), Measured: fmt.Sprint(cost),
			Goal: "<= 110", Met: cost <= 110,
			Note: fmt.Sprintf("in %s; answers %v; %d ids taken in, fetched by the receiver or handed to the order sync (at most 60 a minute per channel, each once in 10 s)", elapsed.Round(time.Millisecond), statuses, handed)},
	}, nil
}
