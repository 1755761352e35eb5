// Command devstack is 'make dev': it runs the whole system locally — the Temporal dev
// server with its Web UI, the hub database, the EKM simulator with its demo shop, the
// worker, and the demo channel with its workflows — prints what runs where, and on
// Ctrl-C stops everything it started.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/ekmsync/ekmsync/internal/cli"
	"github.com/ekmsync/ekmsync/internal/devserver"
	"github.com/ekmsync/ekmsync/internal/process"
	"github.com/ekmsync/ekmsync/internal/secret"
	"github.com/ekmsync/ekmsync/internal/store"
)

// The dev stack's addresses, as the README lists them; flags change them (the
// devstack's own test runs it beside other tests).
var (
	temporalPort = flag.Int("temporal-port", 7233, "Temporal frontend port")
	uiPort       = flag.Int("ui-port", 8233, "Temporal Web UI port")
	workerAddr   = "127.0.0.1:8080"
	adminAddr    = "127.0.0.1:8081"
	simAddr      = "127.0.0.1:8090"
	callbackAddr = "127.0.0.1:8765"
	stateDir     = flag.String("state-dir", "", "where Temporal's state, the secret key and the logs go (default: .dev at the repository root)")
	binDir       = flag.String("bin-dir", "", "where the worker and ekmsim binaries are (default: .bin at the repository root)")
)

const (
	demoChannel = "demo"
	defaultDB   = "postgres://postgres@127.0.0.1:5432/ekmsync?sslmode=disable"
)

func main() {
	flag.StringVar(&workerAddr, "worker-addr", workerAddr, "the worker's public (webhook) address")
	flag.StringVar(&adminAddr, "admin-addr", adminAddr, "the worker's admin address (metrics, health, codec)")
	flag.StringVar(&simAddr, "sim-addr", simAddr, "the simulator's address")
	flag.StringVar(&callbackAddr, "callback-addr", callbackAddr, "the OAuth callback address of the demo channel's authorisation")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "make dev: "+err.Error())
		os.Exit(1)
	}
}

// stack remembers what was started, to stop it in reverse order.
type stack struct {
	stops []func()
}

func (s *stack) onStop(f func()) { s.stops = append(s.stops, f) }

func (s *stack) stop() {
	for i := len(s.stops) - 1; i >= 0; i-- {
		s.stops[i]()
	}
}

func run(ctx context.Context) error {
	root, err := devserver.RepoRoot()
	if err != nil {
		return err
	}
	dir := *stateDir
	if dir == "" {
		dir = filepath.Join(root, ".dev")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	for _, addr := range []string{fmt.Sprintf("127.0.0.1:%d", *temporalPort), fmt.Sprintf("127.0.0.1:%d", *uiPort), workerAddr, adminAddr, simAddr} {
		if inUse(addr) {
			return fmt.Errorf("%s is already in use: is another 'make dev' running? Stop it (Ctrl-C) and try again", addr)
		}
	}
	key, err := secretKey(filepath.Join(dir, "secret.key"))
	if err != nil {
		return err
	}
	dbURL := os.Getenv("EKMSYNC_DATABASE_URL")
	if dbURL == "" {
		dbURL = defaultDB
	}
	var st stack
	defer st.stop()

	step("starting the Temporal dev server with its Web UI (state in " + filepath.Join(dir, "temporal.db") + ")")
	tlog, err := os.Create(filepath.Join(dir, "temporal.log"))
	if err != nil {
		return err
	}
	srv, err := devserver.Start(ctx, devserver.Options{Port: *temporalPort, UIPort: *uiPort, DBFile: filepath.Join(dir, "temporal.db"), LogLevel: "warn", Stdout: tlog, Stderr: tlog})
	if err != nil {
		return err
	}
	st.onStop(func() { step("stopping the Temporal dev server"); _ = srv.Stop() })

	step("creating and migrating the database " + store.Redact(dbURL))
	if _, err := store.EnsureDatabase(ctx, dbURL); err != nil {
		return fmt.Errorf("%w\nIs PostgreSQL running? Start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start", err)
	}
	pool, err := store.Connect(ctx, dbURL)
	if err != nil {
		return err
	}
	if _, err := store.Migrate(ctx, pool); err != nil {
		pool.Close()
		return err
	}
	pool.Close()

	bin := *binDir
	if bin == "" {
		bin = filepath.Join(root, ".bin")
	}
	step("starting the EKM simulator with the demo shop on http://" + simAddr)
	sim, err := startChild(ctx, &st, filepath.Join(bin, "ekmsim"), []string{"-demo", "-addr", simAddr}, nil, filepath.Join(dir, "ekmsim.log"), "ekmsim")
	if err != nil {
		return err
	}
	if err := waitHTTP(ctx, "http://"+simAddr+"/admin/requests", sim); err != nil {
		return fmt.Errorf("the simulator did not come up: %w (see %s)", err, filepath.Join(dir, "ekmsim.log"))
	}

	env := []string{"TEMPORAL_ADDRESS=" + srv.Address(), "EKMSYNC_DATABASE_URL=" + dbURL, "EKMSYNC_SECRET_KEY=" + key,
		"EKMSYNC_HTTP_ADDR=" + workerAddr, "EKMSYNC_ADMIN_ADDR=" + adminAddr, "EKMSYNC_CALLBACK_ADDR=" + callbackAddr,
		"EKMSYNC_WEBHOOK_BASE_URL=http://" + workerAddr}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		_ = os.Setenv(k, v) // for the in-process starter commands below
	}
	step("starting the worker (webhooks on http://" + workerAddr + ", health and metrics on http://" + adminAddr + ")")
	worker, err := startChild(ctx, &st, filepath.Join(bin, "worker"), nil, env, filepath.Join(dir, "worker.log"), "worker")
	if err != nil {
		return err
	}
	if err := waitHTTP(ctx, "http://"+adminAddr+"/healthz", worker); err != nil {
		return fmt.Errorf("the worker did not become healthy: %w (see %s)", err, filepath.Join(dir, "worker.log"))
	}

	step("setting up the demo channel " + demoChannel + " (authorised headless against the simulator)")
	if err := setupDemo(ctx, dbURL); err != nil {
		return err
	}
	printSummary(srv, dbURL, root, dir)
	select {
	case <-ctx.Done():
	case <-worker.Done():
		return fmt.Errorf("the worker exited (see %s)", filepath.Join(dir, "worker.log"))
	case <-sim.Done():
		return fmt.Errorf("the simulator exited (see %s)", filepath.Join(dir, "ekmsim.log"))
	}
	fmt.Println()
	return nil
}

// setupDemo recreates the demo channel (the simulator's shop is new at every start),
// enables it, downloads its listings, and gives the hub a stock item and a price for
// each listed SKU, as the shop shows them, so that the push has something to keep
// in step ('starter stock set' and 'price set' then reach the shop). The order-sync
// and push loops start with the channel.
func setupDemo(ctx context.Context, dbURL string) error {
	// A demo channel from the previous run points at the old shop: start afresh.
	_ = starter(ctx, io.Discard, "channel", "remove", demoChannel, "--purge")
	f, err := os.CreateTemp("", "ekmsync-demo-secret-")
	if err != nil {
		return err
	}
	secretFile := f.Name()
	defer os.Remove(secretFile)
	_, err = f.WriteString("ekmsim-demo-secret") // the simulator's demo client; not a real secret
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	steps := [][]string{
		{"setup"},
		{"channel", "add", demoChannel, "--api-url", "http://" + simAddr, "--client-id", "ekmsim-demo-client",
			"--client-secret-file", secretFile, "--redirect-url", "http://" + callbackAddr + "/callback", "--headless", "--yes"},
		{"channel", "set", demoChannel, "download-unpaid=on", "price-change=on"},
		{"channel", "enable", demoChannel},
		{"listings", "download", demoChannel, "--wait"},
	}
	for _, args := range steps {
		if err := starter(ctx, os.Stdout, args...); err != nil {
			return err
		}
	}
	return seedHubStock(ctx, dbURL)
}

// seedHubStock creates the demo's hub stock: one stock item per listed SKU, at the
// level and price the shop shows.
func seedHubStock(ctx context.Context, dbURL string) error {
	pool, err := store.Connect(ctx, dbURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	_, err = pool.Exec(ctx, `
		INSERT INTO stock_items (sku, title)
			SELECT DISTINCT ON (sku) sku, name FROM listings
			WHERE removed_at IS NULL AND sku_problem IS NULL ORDER BY sku
			ON CONFLICT DO NOTHING;
		INSERT INTO stock_levels (sku, level)
			SELECT DISTINCT ON (sku) sku, COALESCE(ekm_stock, 0) FROM listings
			WHERE removed_at IS NULL AND sku_problem IS NULL ORDER BY sku
			ON CONFLICT DO NOTHING;
		INSERT INTO prices (sku, price)
			SELECT DISTINCT ON (sku) sku, ekm_price FROM listings
			WHERE removed_at IS NULL AND sku_problem IS NULL AND ekm_price IS NOT NULL ORDER BY sku
			ON CONFLICT DO NOTHING`)
	if err != nil {
		return fmt.Errorf("seed the demo's hub stock: %w", err)
	}
	return nil
}

func starter(ctx context.Context, out io.Writer, args ...string) error {
	var errOut strings.Builder
	if code := cli.Main(ctx, args, cli.IO{Stdin: strings.NewReader(""), Stdout: out, Stderr: &errOut}); code != 0 {
		return fmt.Errorf("starter %s failed: %s", strings.Join(args, " "), strings.TrimSpace(errOut.String()))
	}
	return nil
}

func printSummary(srv *devserver.Server, dbURL, root, dir string) {
	rel := dir
	if r, err := filepath.Rel(root, dir); err == nil && !strings.HasPrefix(r, "..") {
		rel = r
	}
	fmt.Printf(`
ekmsync is running. Ctrl-C stops everything.

  Temporal Web UI   %[1]s
  Temporal          %[2]s
  EKM simulator     http://%[3]s   (demo shop; admin API under /admin)
  Worker            http://%[4]s   (public: /webhooks/ekm/<channel>/<token>, /healthz)
  Worker admin      http://%[8]s   (private: /metrics, /healthz, /codec)
  Database          %[5]s
  Logs              %[7]s/worker.log, %[7]s/ekmsim.log, %[7]s/temporal.log

In another terminal, use the operator CLI against this stack:
  export EKMSYNC_SECRET_KEY=$(cat %[7]s/secret.key)
  go run ./starter channel show %[6]s
  go run ./starter listings status %[6]s
  go run ./starter orders list %[6]s
  go run ./starter stock set <sku> <level>     (then: go run ./starter push status %[6]s)

`, srv.UIURL(), srv.Address(), simAddr, workerAddr, store.Redact(dbURL), demoChannel, rel, adminAddr)
}

// startChild starts a binary with its output in a log file, and stops it gracefully
// when the stack stops.
func startChild(ctx context.Context, st *stack, path string, args, env []string, logPath, name string) (*process.Proc, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("%s is not built: run 'make build' (make dev does it first)", path)
	}
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	p, err := process.Start(path, args, env, f)
	if err != nil {
		f.Close()
		return nil, err
	}
	st.onStop(func() {
		step("stopping the " + name)
		if err := p.Stop(40 * time.Second); err != nil {
			step(name + ": " + err.Error())
		}
		f.Close()
	})
	return p, nil
}

func waitHTTP(ctx context.Context, url string, p *process.Proc) error {
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		if !p.Alive() {
			return errors.New("it exited")
		}
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode < 300 {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s did not answer", url)
}

// secretKey reads the dev key from path, generating it on first use.
func secretKey(path string) (string, error) {
	if b, err := os.ReadFile(path); err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	key := secret.Generate()
	if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
		return "", err
	}
	return key, nil
}

func inUse(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 300*time.Millisecond)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

func step(msg string) { fmt.Printf("==> %s\n", msg) }
