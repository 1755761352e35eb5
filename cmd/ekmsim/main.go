// Command ekmsim runs the EKM simulator on its own: the EKM API, the OAuth
// endpoints and the /admin API of internal/ekmsim on one address.
//
//	go run ./cmd/ekmsim -demo
//	go run ./cmd/ekmsim -demo -shops 50 -products 200
//
// It prints the address and the demo OAuth client on stdout, logs with
// log/slog on stderr, and stops cleanly on SIGINT or SIGTERM. With -shops N it
// serves a farm of N shops instead (ekmsim.Farm): shop-001 to shop-N, each
// under /shops/<name> with its own OAuth client, tokens, data and bucket.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/ekmsync/ekmsync/internal/ekmsim"
	"github.com/ekmsync/ekmsync/internal/version"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "ekmsim:", err)
		os.Exit(1)
	}
}

// shutdownGrace bounds how long requests in flight may finish at shutdown.
const shutdownGrace = 5 * time.Second

// run parses args, serves until ctx ends, and shuts down.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	if cfg.version {
		fmt.Fprintln(stdout, "ekmsim "+version.String())
		return nil
	}
	level := slog.LevelInfo
	if cfg.verbose {
		level = slog.LevelDebug
	}
	cfg.opts.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	if cfg.shops > 0 {
		return runFarm(ctx, cfg, stdout)
	}
	sim := ekmsim.New(cfg.opts)
	defer sim.Close()
	srv, err := sim.Start(cfg.addr)
	if err != nil {
		return fmt.Errorf("starting: %w", err)
	}
	fmt.Fprintf(stdout, "ekmsim listening on %s\nclient_id=%s\nclient_secret=%s\n",
		srv.URL(), cfg.opts.ClientID, cfg.opts.ClientSecret)
	<-ctx.Done()
	cfg.opts.Logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutting down: %w", err)
	}
	return nil
}

// runFarm serves cfg.shops shops from one listener until ctx ends. Each shop
// gets the command's options with its own seed (so the shops differ) and the
// farm's own client per shop.
func runFarm(ctx context.Context, cfg config, stdout io.Writer) error {
	farm := ekmsim.NewFarm()
	defer farm.Close()
	for i := 1; i <= cfg.shops; i++ {
		o := cfg.opts
		o.Seed += int64(i)
		if _, err := farm.Add(farmShopName(i), o); err != nil {
			return err
		}
	}
	url, err := farm.Start(cfg.addr)
	if err != nil {
		return fmt.Errorf("starting: %w", err)
	}
	first, last := farmShopName(1), farmShopName(cfg.shops)
	fmt.Fprintf(stdout, "ekmsim farm listening on %s\nshops=%d (%s to %s), API base URL %s\nclient_id=<shop>-client client_secret=<shop>-secret (e.g. %s-client, %s-secret)\n",
		url, cfg.shops, first, last, ekmsim.BaseURL(url, "<shop>"), first, first)
	<-ctx.Done()
	cfg.opts.Logger.Info("shutting down")
	return nil
}

// farmShopName is the i-th shop's name (from 1): shop-001, shop-002, ...
func farmShopName(i int) string { return fmt.Sprintf("shop-%03d", i) }
