package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/ekmsync/ekmsync/internal/config"
	"github.com/ekmsync/ekmsync/internal/ekmsim"
	"github.com/ekmsync/ekmsync/internal/harness"
)

// A worker stopped while its push waits for EKM stops without waiting out its
// stop timeout (here 10 minutes, EKM answering in an hour): the push returns as
// soon as the worker stops, with a retryable WorkerStopping error, and the
// worker logs no stream of heartbeat failures meanwhile.
func TestWorkerStopsPromptlyDuringALongPush(t *testing.T) {
	p := newPushEnv(t, harness.Options{})
	p.StopWorker()
	p.WorkerConfig.StopTimeout = config.Duration(10 * time.Minute)
	p.StartWorker(false)

	p.Sim.SetFaults(ekmsim.Faults{Latency: 1, LatencyDuration: time.Hour})
	p.product("STOP-1", 3, 9) // the hub has 9, EKM shows 3: a stock push is due
	p.Eventually(60*time.Second, "the stock push reaches EKM", func() bool {
		return p.Sim.RequestStats().ByRoute["PUT /api/v1/products/{id}/stock"] > 0
	})

	stopped := make(chan struct{})
	go func() { p.StopWorker(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(2 * time.Minute): // a hang guard, not a measurement: the stop timeout is 10 minutes
		t.Fatalf("the worker did not stop while its push waited for EKM; its log:\n%s", p.WorkerLog())
	}
	log := p.WorkerLog()
	if !strings.Contains(log, "WorkerStopping") {
		t.Errorf("the push did not end with the WorkerStopping error; the worker's log:\n%s", log)
	}
	if n := strings.Count(log, "RecordActivityHeartbeat with error"); n > 1 {
		t.Errorf("%d heartbeat failures logged while the worker stopped, want at most one:\n%s", n, log)
	}
}
