// Command ekmsim runs the EKM simulator on its own: the EKM API, the OAuth
// endpoints and the /admin API of internal/ekmsim on one address.
//
//	go run ./cmd/ekmsim -demo
//
// It prints the address and the demo OAuth client on stdout, logs with
// log/slog on stderr, and stops cleanly on SIGINT or SIGTERM.
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
