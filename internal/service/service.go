// Package service is the worker process: it connects to PostgreSQL and Temporal
// (waiting for them with backoff), applies the migrations, registers every workflow
// and activity on the ekmsync task queue, serves the EKM webhook receiver on a
// public listener and /metrics, /healthz (and, with a payload key, the codec
// server) on a private admin listener, and stops gracefully.
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"

	"github.com/ekmsync/ekmsync/activities"
	"github.com/ekmsync/ekmsync/internal/codec"
	"github.com/ekmsync/ekmsync/internal/config"
	"github.com/ekmsync/ekmsync/internal/drift"
	"github.com/ekmsync/ekmsync/internal/flows"
	"github.com/ekmsync/ekmsync/internal/observe"
	"github.com/ekmsync/ekmsync/internal/refresh"
	"github.com/ekmsync/ekmsync/internal/secret"
	"github.com/ekmsync/ekmsync/internal/shop"
	"github.com/ekmsync/ekmsync/internal/store"
	"github.com/ekmsync/ekmsync/internal/tclient"
	"github.com/ekmsync/ekmsync/internal/webhook"
)

// Run runs the worker until ctx is cancelled, then stops it gracefully: the worker
// stops polling, in-flight activities get cfg.StopTimeout to finish, and the HTTP
// server drains.
func Run(ctx context.Context, cfg config.Worker, logger *slog.Logger) error {
	key, err := secret.NewKey(cfg.SecretKey)
	if err != nil {
		return fmt.Errorf("EKMSYNC_SECRET_KEY: %w", err)
	}
	metrics := newMetrics()

	pool, err := retry(ctx, logger, cfg.ConnectRetryMax.D(), "PostgreSQL at "+store.Redact(string(cfg.DatabaseURL)),
		func() (*pgxpool.Pool, error) { return store.Connect(ctx, withPoolSize(string(cfg.DatabaseURL))) })
	if err != nil {
		return err
	}
	defer pool.Close()
	res, err := store.Migrate(ctx, pool)
	if err != nil {
		return err
	}
	logger.Info("database ready", "schema_version", res.Current, "applied", res.Applied)

	topts := tclient.Options{Logger: logger, MetricsHandler: metrics.handler}
	var payloadKey *secret.Key
	if len(cfg.PayloadKey) > 0 {
		if payloadKey, err = secret.NewKey(cfg.PayloadKey); err != nil {
			return fmt.Errorf("EKMSYNC_PAYLOAD_KEY: %w", err)
		}
		topts.DataConverter = codec.DataConverter(payloadKey)
		logger.Info("Temporal payloads are encrypted", "key_id", payloadKey.ID())
	}
	if cfg.OTelTraces == "otlp" {
		tracing, err := observe.NewTracing(ctx)
		if err != nil {
			return fmt.Errorf("EKMSYNC_OTEL_TRACES: %w", err)
		}
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = tracing.Shutdown(sctx)
		}()
		topts.Interceptors = append(topts.Interceptors, tracing.Interceptor)
		logger.Info("OpenTelemetry tracing on: spans go to the OTLP endpoint of OTEL_EXPORTER_OTLP_*")
	}
	// The address may come from a profile: name the one the dial uses.
	co, err := tclient.ClientOptions(cfg.Temporal, topts)
	if err != nil {
		return err
	}
	tc, err := retry(ctx, logger, cfg.ConnectRetryMax.D(), "Temporal at "+co.HostPort, func() (client.Client, error) {
		return tclient.Dial(ctx, cfg.Temporal, topts)
	})
	if err != nil {
		return err
	}
	defer tc.Close()

	st := store.New(pool)
	httpClient := &http.Client{Timeout: 60 * time.Second}
	acts := &activities.Activities{
		Store: st,
		Shop:  &shop.Connector{Store: st, Key: key, HTTP: httpClient, Logger: logger, Observer: &observe.EKM{Store: st, Logger: logger}},
		Now:   time.Now,
	}
	metrics.registry.MustRegister(&observe.Hub{Store: st, Temporal: tc, Logger: logger})
	metrics.registry.MustRegister(&observe.Drift{Store: st, Logger: logger})
	w, lw := newWorkers(tc, cfg)
	Register(versioned(w, cfg), acts)
	lw.RegisterActivity(acts)

	wf := flows.Starter{Client: tc, TaskQueue: cfg.TaskQueue}
	go listenChanges(ctx, pool, st, wf, cfg.NotifyDebounce.D(), logger)

	go pruneHints(ctx, st, logger)
	if url := cfg.NotifyURL.Reveal(); url != "" {
		n := &observe.Notifier{Store: st, Temporal: tc, URL: url, Logger: logger}
		go n.Run(ctx, cfg.NotifyEvery.D())
		logger.Info("notifications on: what needs a person goes to EKMSYNC_NOTIFY_URL", "check_every", cfg.NotifyEvery.D())
	}
	go ensureWebhookTokens(ctx, st, acts.Shop, logger)
	// The refresh tokens' keep-alive runs in every worker (safe: see shop.KeepAlive),
	// beside Temporal: it needs only PostgreSQL and EKM's token endpoint.
	go (&shop.KeepAlive{Connector: acts.Shop, Logger: logger}).Run(ctx)
	go (&drift.Scheduler{Store: st, Connector: acts.Shop, Logger: logger}).Run(ctx) // drift-interval, under a claim
	// listing-refresh-interval, under a claim, at listing priority of the shared budget.
	go (&refresh.Scheduler{Store: st, Connector: acts.Shop, Logger: logger}).Run(ctx)

	// The public listener, which EKM must reach, serves only the webhook receiver
	// and a bare /healthz; everything else is on the private admin listener.
	public := http.NewServeMux()
	recv := newReceiver(st, wf, logger, metrics.webhook).withFetch(ctx, cfg.WebhookFetches, fetchByID(acts))
	public.Handle("POST "+webhook.PathPrefix+"{channel}/{token}", recv)
	public.HandleFunc(webhook.PathPrefix, recv.refuse) // any other shape: like an unknown channel
	public.HandleFunc("GET /healthz", healthz(pool, tc, false))
	srv, addr, err := serve(cfg.HTTPAddr, "EKMSYNC_HTTP_ADDR", "http", public, publicLimits, logger)
	if err != nil {
		return err
	}
	admin := http.NewServeMux()
	admin.HandleFunc("GET /healthz", healthz(pool, tc, true))
	admin.Handle("GET /metrics", metrics.http)
	mountProbes(ctx, admin, pool, tc)
	if payloadKey != nil {
		// The codec server decrypts payloads for the Web UI: private, like the metrics.
		admin.Handle("/codec/", codec.Handler(payloadKey, codec.Origins(cfg.CodecCORSOrigins), cfg.CodecToken.Reveal()))
	}
	adminSrv, adminAddr, err := serve(cfg.AdminAddr, "EKMSYNC_ADMIN_ADDR", "admin", admin, adminLimits, logger)
	if err != nil {
		_ = srv.Close()
		return err
	}
	defer adminSrv.Close()
	logger.Info("admin listener started", "addr", adminAddr.String(), "codec", payloadKey != nil)

	if err := w.Start(); err != nil {
		return fmt.Errorf("start the Temporal worker: %w", err)
	}
	if err := lw.Start(); err != nil {
		w.Stop()
		return fmt.Errorf("start the Temporal worker of the listing queue: %w", err)
	}
	logger.Info("worker started", "task_queue", cfg.TaskQueue, "listing_queue", ListingQueue(cfg.TaskQueue),
		"listing_slots", listingSlots(cfg), "temporal", co.HostPort, "http", addr.String())
	go supervise(ctx, st, wf, logger)
	<-ctx.Done()
	logger.Info("shutting down: waiting for in-flight activities", "timeout", cfg.StopTimeout.D())
	stopWorkers(w, lw)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutdownCtx)
	logger.Info("worker stopped")
	return nil
}

// retry calls connect until it succeeds or ctx ends, with exponential backoff up to
// maxWait, logging one clear line per failed attempt.
func retry[T any](ctx context.Context, logger *slog.Logger, maxWait time.Duration, what string, connect func() (T, error)) (T, error) {
	wait := 500 * time.Millisecond
	for {
		v, err := connect()
		if err == nil {
			return v, nil
		}
		logger.Warn("waiting for "+what, "err", err, "retry_in", wait.String())
		select {
		case <-ctx.Done():
			var zero T
			return zero, fmt.Errorf("gave up waiting for %s: %w", what, err)
		case <-time.After(wait):
		}
		wait = min(wait*2, maxWait)
	}
}

// healthz answers 200 when PostgreSQL and Temporal both answer. Only the private
// (admin) answer says which failed and why: an error's text may name hosts and
// users, which the public listener must not tell.
func healthz(pool *pgxpool.Pool, tc client.Client, private bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		what, err := "postgres", pool.Ping(ctx)
		if err == nil {
			what = "temporal"
			_, err = tc.CheckHealth(ctx, &client.CheckHealthRequest{})
		}
		switch {
		case err != nil && private:
			http.Error(w, what+": "+err.Error(), http.StatusServiceUnavailable)
		case err != nil:
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
		default:
			_, _ = w.Write([]byte("ok\n"))
		}
	}
}

// limits bound what a listener lets a client hold: slow clients trickling bytes
// are cut off by the read timeouts, idle keep-alive connections by the idle one.
type limits struct {
	readHeader, read, write, idle time.Duration
	maxHeaderBytes                int
}

var (
	// publicLimits fit EKM's webhooks: a small request answered within its 5 s wait.
	publicLimits = limits{readHeader: 5 * time.Second, read: 10 * time.Second, write: 10 * time.Second,
		idle: 30 * time.Second, maxHeaderBytes: 8 << 10}
	// adminLimits leave room for the Web UI's codec calls (a history page of payloads).
	adminLimits = limits{readHeader: 5 * time.Second, read: 30 * time.Second, write: 60 * time.Second,
		idle: 120 * time.Second, maxHeaderBytes: 64 << 10}
)

// serve listens at addr (the setting env) and serves h there in the background,
// logging as the name server if it stops on its own. It returns the server, to
// close, and the address it listens at.
func serve(addr config.Addr, env, name string, h http.Handler, lim limits, logger *slog.Logger) (*http.Server, net.Addr, error) {
	ln, err := net.Listen("tcp", string(addr))
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: %w", env, addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: lim.readHeader, ReadTimeout: lim.read, WriteTimeout: lim.write,
		IdleTimeout: lim.idle, MaxHeaderBytes: lim.maxHeaderBytes}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error(name+" server stopped", "err", err)
		}
	}()
	return srv, ln.Addr(), nil
}

// workerPoolSize is the worker's PostgreSQL pool unless the URL's pool_max_conns
// says otherwise. pgx's default, the number of CPUs and at least 4, made every
// activity, budget grant and webhook of hundreds of channels queue for one of 4
// connections on a 2-core machine; connections open only as they are needed.
const workerPoolSize = 20

// withPoolSize adds pool_max_conns=workerPoolSize to a database URL without one.
func withPoolSize(databaseURL string) string {
	u, err := url.Parse(databaseURL)
	if err != nil || u.Scheme == "" {
		return databaseURL // a keyword/value string, or one pgx will refuse with its own words
	}
	q := u.Query()
	if q.Get("pool_max_conns") != "" {
		return databaseURL
	}
	q.Set("pool_max_conns", strconv.Itoa(workerPoolSize))
	u.RawQuery = q.Encode()
	return u.String()
}
