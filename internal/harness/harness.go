// Package harness builds end-to-end test environments: a fresh PostgreSQL schema,
// the package's shared Temporal dev server, an EKM simulator on a real port, the
// worker (in-process or as a child process that tests may kill), and a channel
// added through the starter CLI's own code. Test packages that use it call
// temporaltest.Main from their TestMain.
package harness

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/cli"
	"github.com/ekmsync/ekmsync/internal/codec"
	"github.com/ekmsync/ekmsync/internal/config"
	"github.com/ekmsync/ekmsync/internal/devserver"
	"github.com/ekmsync/ekmsync/internal/ekmsim"
	"github.com/ekmsync/ekmsync/internal/flows"
	"github.com/ekmsync/ekmsync/internal/process"
	"github.com/ekmsync/ekmsync/internal/secret"
	"github.com/ekmsync/ekmsync/internal/service"
	"github.com/ekmsync/ekmsync/internal/store"
	"github.com/ekmsync/ekmsync/internal/store/storetest"
	"github.com/ekmsync/ekmsync/internal/temporaltest"
)

// TB is what the harness needs of a test; testing.TB has it.
type TB = storetest.TB

// Options shape an environment.
type Options struct {
	// Sim configures the simulator. Zero fields get test-friendly defaults:
	// AutoApprove on, and a fast bucket (200, leaking 200/s) unless set.
	Sim ekmsim.Options
	// Channel is the channel's name (default "shop").
	Channel string
	// Settings are applied with 'channel set' after the channel is added.
	Settings []string
	// Disabled leaves the channel disabled (default: enabled).
	Disabled bool
	// NoChannel skips adding a channel.
	NoChannel bool
	// WorkerProcess runs the worker as a child process, which KillWorker can kill.
	WorkerProcess bool
	// Workers is how many worker processes serve the task queue (WorkerProcess
	// only; default 1). Each has listeners of its own; with more than one, EKM's
	// webhooks go to a front that forwards each to a worker that is up, as a
	// deployment's load balancer does, and each line of the worker log names its
	// process ("worker 2: ...").
	Workers int
	// StartedWorkers is how many of the Workers start with the environment (the
	// first ones; default all): the others start when TryStartWorkerProcess is
	// called, as a deployment scales out.
	StartedWorkers int
	// DatabaseURL is the PostgreSQL database to make the test schema in (default:
	// storetest's test database on the machine's server).
	DatabaseURL string
	// PayloadKey turns payload encryption on for the worker and the starter; the
	// environment's Temporal client then decrypts with it too.
	PayloadKey bool
	// DebugLog makes the in-process worker log at debug level (default info).
	DebugLog bool
	// ListingSlots is the worker's EKMSYNC_LISTING_SLOTS (default: the worker's own).
	ListingSlots int
	// WebhookFetches is the worker's EKMSYNC_WEBHOOK_FETCHES (default: the
	// worker's own, 32; negative: 0, the order-sync loop fetches every webhooked
	// order).
	WebhookFetches int
	// Server is the Temporal dev server to use (default: the package's shared one,
	// temporaltest.Server); the browser test passes one with its Web UI.
	Server *devserver.Server
}

// Env is one test's running system.
type Env struct {
	t         storetest.TB
	DB        *storetest.DB
	Sim       *ekmsim.Sim
	SimURL    string
	Temporal  client.Client
	Workflows flows.Starter
	Channel   string
	// Config is the starter's configuration for this environment.
	Config config.Starter
	// WorkerConfig is the worker's (the first worker process's; the others
	// differ only in their listeners).
	WorkerConfig config.Worker
	Key          *secret.Key

	debugLog   bool
	mu         sync.Mutex
	workers    []*process.Proc // the worker processes by number, nil while one is down
	moreAddrs  []listeners     // the listeners of the worker processes after the first
	workerLog  *syncBuffer
	stopWorker context.CancelFunc
	workerDone chan struct{}
}

// New builds an environment and cleans it up when the test ends.
func New(t storetest.TB, opts Options) *Env {
	t.Helper()
	var db *storetest.DB
	if opts.DatabaseURL != "" {
		db = storetest.NewAt(t, opts.DatabaseURL)
	} else {
		db = storetest.New(t)
	}
	simOpts := opts.Sim
	simOpts.AutoApprove = true
	if simOpts.BucketSize == 0 {
		simOpts.BucketSize, simOpts.LeakPerSecond = 200, 200
	}
	sim := ekmsim.New(simOpts)
	srv, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatalf("start the simulator: %v", err)
	}
	t.Cleanup(func() { _ = srv.Close(); sim.Close() })

	dev := opts.Server
	if dev == nil {
		dev = temporaltest.Server(t)
	}
	keyText := secret.Generate()
	rawKey, _ := config.ParseKey(keyText)
	key, _ := secret.NewKey(rawKey)
	httpPort, cbPort, codecPort := freePort(t), freePort(t), freePort(t)
	webhookBase := fmt.Sprintf("http://127.0.0.1:%d", httpPort)
	taskQueue := fmt.Sprintf("ekmsync-test-%s", db.Schema)

	common := config.Common{
		Temporal:    config.Temporal{Address: dev.Address(), Namespace: "default"},
		DatabaseURL: config.DatabaseURL(db.URL),
		SecretKey:   rawKey,
		LogLevel:    config.LogLevel(slog.LevelInfo),
		TaskQueue:   taskQueue,
	}
	var payloadKey *secret.Key
	if opts.PayloadKey {
		raw, _ := config.ParseKey(secret.Generate())
		common.PayloadKey = raw
		payloadKey, _ = secret.NewKey(raw)
	}
	e := &Env{
		t: t, DB: db, Sim: sim, SimURL: srv.URL(), Key: key,
		Temporal:  temporalClient(t, dev, opts.Server == nil, payloadKey),
		Workflows: flows.Starter{TaskQueue: taskQueue},
		Channel:   opts.Channel,
		Config: config.Starter{Common: common, CallbackAddr: config.Addr(fmt.Sprintf("127.0.0.1:%d", cbPort)),
			WebhookBaseURL: webhookBase},
		WorkerConfig: config.Worker{Common: common, HTTPAddr: config.Addr(fmt.Sprintf("127.0.0.1:%d", httpPort)),
			AdminAddr:   config.Addr(fmt.Sprintf("127.0.0.1:%d", codecPort)),
			StopTimeout: config.Duration(5 * time.Second), ConnectRetryMax: config.Duration(2 * time.Second),
			NotifyDebounce: config.Duration(50 * time.Millisecond), ListingSlots: opts.ListingSlots,
			WebhookFetches: webhookFetches(t, opts.WebhookFetches)},
	}
	e.Workflows.Client = e.Temporal
	e.workers = make([]*process.Proc, max(opts.Workers, 1))
	for range len(e.workers) - 1 {
		e.moreAddrs = append(e.moreAddrs, listeners{http: config.Addr(fmt.Sprintf("127.0.0.1:%d", freePort(t))),
			admin: config.Addr(fmt.Sprintf("127.0.0.1:%d", freePort(t)))})
	}
	if len(e.workers) > 1 && opts.WorkerProcess {
		e.Config.WebhookBaseURL = e.startFront(t)
	}
	e.debugLog = opts.DebugLog
	if e.Channel == "" {
		e.Channel = "shop"
	}
	t.Cleanup(e.StopWorker)
	if opts.WorkerProcess {
		started := len(e.workers)
		if opts.StartedWorkers > 0 {
			started = min(opts.StartedWorkers, started)
		}
		for i := range started {
			if err := e.TryStartWorkerProcess(i); err != nil {
				t.Fatal(err)
			}
		}
	} else {
		e.StartWorker(false)
	}
	if !opts.NoChannel {
		e.AddChannel(e.Channel, opts.Settings, !opts.Disabled)
	}
	return e
}

// AddChannel adds a channel through 'starter channel add' (authorised headless
// against the simulator), applies settings and enables it if asked.
func (e *Env) AddChannel(name string, settings []string, enable bool) channel.Settings {
	e.t.Helper()
	secretFile := filepath.Join(e.t.TempDir(), "client-secret")
	if err := os.WriteFile(secretFile, []byte("ekmsim-demo-secret"), 0o600); err != nil {
		e.t.Fatal(err)
	}
	e.MustCLI("channel", "add", name, "--api-url", e.SimURL, "--client-id", "ekmsim-demo-client",
		"--client-secret-file", secretFile, "--redirect-url", "http://"+string(e.Config.CallbackAddr)+"/callback",
		"--headless", "--yes", "--timeout", "30s")
	// Workflow IDs derive from the channel's name, and the package's tests share one
	// Temporal dev server: end this test's loops so that the next test's 'channel
	// add' of the same name starts its own instead of finding these.
	e.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = e.Workflows.StopChannel(ctx, name)
	})
	if len(settings) > 0 {
		e.MustCLI(append([]string{"channel", "set", name}, settings...)...)
	}
	if enable {
		// Not 'channel enable', which starts a channel's first listing download:
		// the tests download when they mean to.
		e.MustCLI("channel", "set", name, "enabled=on")
	}
	s, err := e.DB.Store.Channel(context.Background(), name)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

// CLI runs the starter with args against this environment.
func (e *Env) CLI(args ...string) (stdout, stderr string, code int) {
	return e.CLIInput("", args...)
}

// CLIInput runs the starter with stdin, as an operator answering its prompts.
func (e *Env) CLIInput(stdin string, args ...string) (stdout, stderr string, code int) {
	var out, errOut bytes.Buffer
	cfg := e.Config
	code = cli.Main(context.Background(), args, cli.IO{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errOut, Config: &cfg})
	return out.String(), errOut.String(), code
}

// MustCLI runs the starter and fails the test unless it exits 0.
func (e *Env) MustCLI(args ...string) string {
	e.t.Helper()
	out, errOut, code := e.CLI(args...)
	if code != 0 {
		e.t.Fatalf("starter %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// CLIJSON runs the starter with --json and decodes its output into v.
func (e *Env) CLIJSON(v any, args ...string) {
	e.t.Helper()
	out := e.MustCLI(append(args, "--json")...)
	if err := cli.UnmarshalJSON([]byte(out), v); err != nil {
		e.t.Fatalf("starter %s --json: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// Store is the hub store of this environment.
func (e *Env) Store() *store.Store { return e.DB.Store }

// StartWorker starts the worker, in-process or as a child process, and waits until
// it is healthy.
func (e *Env) StartWorker(asProcess bool) {
	e.t.Helper()
	if err := e.TryStartWorker(asProcess); err != nil {
		e.t.Fatal(err)
	}
}

// TryStartWorker is StartWorker returning its error instead of failing the test,
// for goroutines other than the test's (the chaos suite's restarts). As a process,
// it starts the first worker process.
func (e *Env) TryStartWorker(asProcess bool) error {
	if asProcess {
		return e.TryStartWorkerProcess(0)
	}
	e.mu.Lock()
	ctx, cancel := context.WithCancel(context.Background())
	e.stopWorker, e.workerDone = cancel, make(chan struct{})
	level := slog.LevelInfo
	if e.debugLog {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(e.log(), &slog.HandlerOptions{Level: level}))
	go func() {
		defer close(e.workerDone)
		if err := service.Run(ctx, e.WorkerConfig, logger); err != nil {
			fmt.Fprintf(e.workerLog, "worker failed: %v\n", err)
		}
	}()
	e.mu.Unlock()
	return e.waitHealthy(e.WorkerConfig)
}

// TryStartWorkerProcess starts worker process i (0 to Options.Workers-1) and
// waits until it is healthy.
func (e *Env) TryStartWorkerProcess(i int) error {
	path, err := workerBinary()
	if err != nil {
		return err
	}
	e.mu.Lock()
	cfg := e.workerConfig(i)
	out := io.Writer(e.log())
	if len(e.workers) > 1 {
		out = &linePrefixer{prefix: fmt.Sprintf("worker %d: ", i+1), to: e.workerLog}
	}
	p, err := process.Start(path, nil, workerEnv(cfg), out)
	if err == nil {
		e.workers[i] = p
	}
	e.mu.Unlock()
	if err != nil {
		return err
	}
	return e.waitHealthy(cfg)
}

// log is the worker log, made on first use: one log across restarts, so that
// what a killed worker said stays readable. Called with mu held.
func (e *Env) log() *syncBuffer {
	if e.workerLog == nil {
		e.workerLog = &syncBuffer{}
	}
	return e.workerLog
}

// waitHealthy waits until the worker of cfg answers its /healthz.
func (e *Env) waitHealthy(cfg config.Worker) error {
	url := "http://" + string(cfg.HTTPAddr) + "/healthz"
	if err := waitHTTP(url, 60*time.Second); err != nil {
		return fmt.Errorf("worker not healthy: %w\n%s", err, e.workerLog)
	}
	return nil
}

// workerConfig is worker process i's configuration: WorkerConfig, with
// listeners of its own after the first.
func (e *Env) workerConfig(i int) config.Worker {
	w := e.WorkerConfig
	if i > 0 {
		w.HTTPAddr, w.AdminAddr = e.moreAddrs[i-1].http, e.moreAddrs[i-1].admin
	}
	return w
}

// listeners are one worker process's public and admin addresses.
type listeners struct{ http, admin config.Addr }

func workerEnv(w config.Worker) []string {
	env := []string{"TEMPORAL_ADDRESS=" + w.Address, "EKMSYNC_DATABASE_URL=" + string(w.DatabaseURL),
		"EKMSYNC_SECRET_KEY=" + secretText(w.SecretKey), "EKMSYNC_HTTP_ADDR=" + string(w.HTTPAddr), "EKMSYNC_ADMIN_ADDR=" + string(w.AdminAddr),
		"EKMSYNC_TASK_QUEUE=" + w.TaskQueue, "EKMSYNC_WORKER_STOP_TIMEOUT=5s", "EKMSYNC_CONNECT_RETRY_MAX=2s",
		"EKMSYNC_NOTIFY_DEBOUNCE=50ms", "EKMSYNC_PAYLOAD_KEY=" + secretText(w.PayloadKey)}
	if w.ListingSlots > 0 {
		env = append(env, fmt.Sprintf("EKMSYNC_LISTING_SLOTS=%d", w.ListingSlots))
	}
	return append(env, fmt.Sprintf("EKMSYNC_WEBHOOK_FETCHES=%d", w.WebhookFetches))
}

// webhookFetches is the EKMSYNC_WEBHOOK_FETCHES of Options.WebhookFetches,
// unset being the worker's default, read from its configuration's tags: an
// in-process worker's configuration is not read from the environment.
func webhookFetches(t storetest.TB, opt int) int {
	switch {
	case opt < 0:
		return 0
	case opt > 0:
		return opt
	}
	vars, err := config.Variables(&config.Worker{})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vars {
		if v.Name == "EKMSYNC_WEBHOOK_FETCHES" {
			n, err := strconv.Atoi(v.Default)
			if err != nil {
				t.Fatalf("EKMSYNC_WEBHOOK_FETCHES default %q: %v", v.Default, err)
			}
			return n
		}
	}
	t.Fatal("the worker reads no EKMSYNC_WEBHOOK_FETCHES")
	return 0
}

// KillWorker kills the first worker process with SIGKILL (WorkerProcess only).
func (e *Env) KillWorker() {
	e.t.Helper()
	e.KillWorkerProcess(0)
}

// KillWorkerProcess kills worker process i with SIGKILL (WorkerProcess only).
func (e *Env) KillWorkerProcess(i int) {
	e.t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.workers[i] == nil {
		e.t.Fatalf("KillWorker: worker process %d is not running (it needs Options.WorkerProcess)", i+1)
	}
	e.workers[i].Kill()
	e.workers[i] = nil
}

// WorkerAdminAddr is worker process i's admin listener (its /metrics).
func (e *Env) WorkerAdminAddr(i int) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return string(e.workerConfig(i).AdminAddr)
}

// WorkerPID is the first worker process's id (WorkerProcess only), for
// benchmarks that read its memory from /proc.
func (e *Env) WorkerPID() int {
	e.t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.workers[0] == nil {
		e.t.Fatal("WorkerPID needs Options.WorkerProcess")
	}
	return e.workers[0].PID()
}

// StopWorker stops the worker gracefully.
func (e *Env) StopWorker() {
	e.mu.Lock()
	defer e.mu.Unlock()
	var stopping sync.WaitGroup
	for i, p := range e.workers {
		if p != nil {
			stopping.Go(func() { _ = p.Stop(20 * time.Second) })
			e.workers[i] = nil
		}
	}
	stopping.Wait()
	if e.stopWorker != nil {
		e.stopWorker()
		<-e.workerDone
		e.stopWorker = nil
	}
}

// WorkerLog returns what the worker logged so far.
func (e *Env) WorkerLog() string { return e.workerLog.String() }

// Eventually polls cond until it holds, failing the test with msg after timeout.
func (e *Env) Eventually(timeout time.Duration, msg string, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out after %s: %s\nworker log (tail):\n%s", timeout, msg, tail(e.WorkerLog(), 4000))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Settings reads the channel's settings.
func (e *Env) Settings() channel.Settings {
	e.t.Helper()
	s, err := e.DB.Store.Channel(context.Background(), e.Channel)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

// temporalClient dials the dev server, decrypting payloads when key is set.
func temporalClient(t TB, dev *devserver.Server, shared bool, key *secret.Key) client.Client {
	if key == nil && shared {
		return temporaltest.Client(t)
	}
	opts := client.Options{HostPort: dev.Address(), Logger: log.NewStructuredLogger(slog.New(slog.DiscardHandler))}
	if key != nil {
		opts.DataConverter = codec.DataConverter(key)
	}
	c, err := client.Dial(opts)
	if err != nil {
		t.Fatalf("dial Temporal: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

func freePort(t storetest.TB) int {
	p, err := devserver.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}
