package service_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ekmsync/ekmsync/internal/devserver"
	"github.com/ekmsync/ekmsync/internal/process"
	"github.com/ekmsync/ekmsync/internal/secret"
	"github.com/ekmsync/ekmsync/internal/store/storetest"
	"github.com/ekmsync/ekmsync/internal/temporaltest"
)

func TestMain(m *testing.M) { temporaltest.Main(m) }

var (
	buildOnce  sync.Once
	workerPath string
	buildErr   error
)

func workerBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ekmsync-worker")
		if err != nil {
			buildErr = err
			return
		}
		workerPath, buildErr = process.Build(context.Background(), dir, "./worker")
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return workerPath
}

// syncBuffer is a bytes.Buffer safe for a child's output and the test's reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// workerEnv returns a worker's environment and its public and admin addresses.
func workerEnv(t *testing.T, dbURL, temporal string) ([]string, string, string) {
	var addrs [2]string
	for i := range addrs {
		port, err := devserver.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		addrs[i] = fmt.Sprintf("127.0.0.1:%d", port)
	}
	return []string{"EKMSYNC_DATABASE_URL=" + dbURL, "TEMPORAL_ADDRESS=" + temporal, "EKMSYNC_SECRET_KEY=" + secret.Generate(),
		"EKMSYNC_HTTP_ADDR=" + addrs[0], "EKMSYNC_ADMIN_ADDR=" + addrs[1], "EKMSYNC_WORKER_STOP_TIMEOUT=2s"}, addrs[0], addrs[1]
}

func waitHealthy(t *testing.T, addr string, p *process.Proc, out *syncBuffer) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if !p.Alive() {
			t.Fatalf("worker exited early:\n%s", out)
		}
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("worker at %s never became healthy:\n%s", addr, out)
}

func TestWorkerRejectsMalformedConfigNamingTheVariable(t *testing.T) {
	var out syncBuffer
	p, err := process.Start(workerBinary(t), nil, []string{"EKMSYNC_SECRET_KEY=" + secret.Generate(), "EKMSYNC_HTTP_ADDR=not-an-address"}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if code := p.ExitCode(); code == 0 {
		t.Fatalf("exit code 0 with a malformed EKMSYNC_HTTP_ADDR")
	}
	if !strings.Contains(out.String(), "EKMSYNC_HTTP_ADDR") || strings.Count(strings.TrimSpace(out.String()), "\n") != 0 {
		t.Fatalf("output does not name the variable in one line: %q", out.String())
	}
}

// Two workers started at the same moment against an empty database both come up,
// with one schema; both serve /healthz, and /metrics (with the SDK's metrics) on
// the admin listener only, and both stop cleanly on SIGTERM.
func TestTwoWorkersStartTogetherOnAnEmptyDatabase(t *testing.T) {
	db := storetest.NewEmpty(t)
	srv := temporaltest.Server(t)
	type w struct {
		p           *process.Proc
		addr, admin string
		out         *syncBuffer
	}
	var workers []w
	for range 2 {
		env, addr, admin := workerEnv(t, db.URL, srv.Address())
		out := &syncBuffer{}
		p, err := process.Start(workerBinary(t), nil, env, out)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Kill)
		workers = append(workers, w{p, addr, admin, out})
	}
	for _, w := range workers {
		waitHealthy(t, w.addr, w.p, w.out)
	}
	var tables, versions int
	ctx := context.Background()
	_ = db.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = $1 AND tablename = 'channels'`, db.Schema).Scan(&tables)
	_ = db.Pool.QueryRow(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&versions)
	if tables != 1 || versions == 0 {
		t.Fatalf("channels tables %d, migrations recorded %d", tables, versions)
	}
	if resp, err := http.Get("http://" + workers[0].addr + "/metrics"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("the public listener serves /metrics: %v %v", resp, err)
	}
	resp, err := http.Get("http://" + workers[0].admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	_, _ = body.ReadFrom(resp.Body)
	resp.Body.Close()
	if !strings.Contains(body.String(), "go_goroutines") {
		t.Fatalf("/metrics lacks runtime metrics")
	}
	// The SDK's own metrics (pollers, task latencies) are reported through tally
	// every second, under the names Temporal's dashboards query, with histogram
	// buckets (not summaries).
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(body.String(), "\ntemporal_request_latency_seconds_bucket{") {
		if time.Now().After(deadline) {
			t.Fatalf("/metrics lacks the Temporal SDK's metrics:\n%s", body.String())
		}
		time.Sleep(500 * time.Millisecond)
		body.Reset()
		if resp, err := http.Get("http://" + workers[0].admin + "/metrics"); err == nil {
			_, _ = body.ReadFrom(resp.Body)
			resp.Body.Close()
		}
	}
	for _, w := range workers {
		if err := w.p.Stop(20 * time.Second); err != nil {
			t.Fatalf("SIGTERM: %v\n%s", err, w.out)
		}
		if code := w.p.ExitCode(); code != 0 {
			t.Fatalf("exit code %d after SIGTERM:\n%s", code, w.out)
		}
	}
}

// While PostgreSQL or Temporal is down, the worker waits for it with backoff and
// says so in one clear line per attempt, instead of exiting; SIGTERM still stops it.
func TestWorkerWaitsForItsDependenciesWithAClearLogLine(t *testing.T) {
	closed, err := devserver.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	db := storetest.New(t)
	cases := []struct{ name, dbURL, temporal, want string }{
		{"postgres down", fmt.Sprintf("postgres://postgres@127.0.0.1:%d/x?sslmode=disable", closed), "127.0.0.1:1", "waiting for PostgreSQL at"},
		{"temporal down", db.URL, fmt.Sprintf("127.0.0.1:%d", closed), "waiting for Temporal at"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env, _, _ := workerEnv(t, c.dbURL, c.temporal)
			env = append(env, "EKMSYNC_CONNECT_RETRY_MAX=1s")
			var out syncBuffer
			p, err := process.Start(workerBinary(t), nil, env, &out)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Kill()
			deadline := time.Now().Add(30 * time.Second)
			for strings.Count(out.String(), c.want) < 2 {
				if !p.Alive() {
					t.Fatalf("the worker exited instead of waiting:\n%s", out.String())
				}
				if time.Now().After(deadline) {
					t.Fatalf("no repeated %q line:\n%s", c.want, out.String())
				}
				time.Sleep(100 * time.Millisecond)
			}
			if err := p.Stop(10 * time.Second); err != nil {
				t.Fatalf("SIGTERM while waiting: %v", err)
			}
		})
	}
}
