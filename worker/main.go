// Command worker runs ekmsync's Temporal worker: every workflow and activity on task
// queue "ekmsync", plus the EKM webhook receiver (public) and /healthz, /metrics (admin). It is
// configured by environment variables; run it with --help to list them.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/ekmsync/ekmsync/internal/config"
	"github.com/ekmsync/ekmsync/internal/service"
)

func main() {
	for _, arg := range os.Args[1:] {
		if arg == "--help" || arg == "-help" || arg == "-h" {
			fmt.Println("worker: runs ekmsync's Temporal workflows and activities.\n\nConfigured by these environment variables:")
			_ = config.Usage(os.Stdout, &config.Worker{})
			return
		}
	}
	var cfg config.Worker
	if err := config.Load(&cfg); err != nil {
		fmt.Fprintln(os.Stderr, "worker: "+err.Error())
		os.Exit(2)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel.Level()}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := service.Run(ctx, cfg, logger); err != nil {
		logger.Error("worker failed", "err", err)
		os.Exit(1)
	}
}
