// Command worker runs ekmsync's Temporal worker: every workflow and activity on task
// queue "ekmsync", plus the EKM webhook receiver (public listener) and /healthz,
// /livez, /readyz, /metrics and the codec server (admin listener). It is configured by
// environment variables; run it with --help to list them, and with --version to print
// the build's version. 'worker --probe URL' is a healthcheck for images without curl.
package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/ekmsync/ekmsync/internal/config"
	"github.com/ekmsync/ekmsync/internal/logging"
	"github.com/ekmsync/ekmsync/internal/service"
	"github.com/ekmsync/ekmsync/internal/version"
)

func main() {
	if len(os.Args) == 3 && os.Args[1] == "--probe" {
		os.Exit(probe(os.Args[2]))
	}
	for _, arg := range os.Args[1:] {
		if arg == "--help" || arg == "-help" || arg == "-h" {
			fmt.Println("worker: runs ekmsync's Temporal workflows and activities.\n\nConfigured by these environment variables:")
			_ = config.Usage(os.Stdout, &config.Worker{})
			return
		}
		if arg == "--version" || arg == "-version" {
			fmt.Println("worker " + version.String())
			return
		}
	}
	var cfg config.Worker
	if err := config.Load(&cfg); err != nil {
		fmt.Fprintln(os.Stderr, "worker: "+err.Error())
		os.Exit(2)
	}
	logger := logging.NewLogger(os.Stderr, cfg.LogFormat.JSON(), cfg.LogLevel.Level())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := service.Run(ctx, cfg, logger); err != nil {
		logger.Error("worker failed", "err", err)
		os.Exit(1)
	}
}

// probe GETs url and exits 0 on a 200, for container healthchecks in images without
// a shell or curl: worker --probe http://127.0.0.1:8080/readyz
func probe(url string) int {
	hc := &http.Client{Timeout: 5 * time.Second}
	resp, err := hc.Get(url)
	if err != nil {
		fmt.Fprintln(os.Stderr, "worker --probe: "+err.Error())
		return 1
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		fmt.Fprintf(os.Stderr, "worker --probe: %s answered %s: %s\n", url, resp.Status, strings.TrimSpace(string(body)))
		return 1
	}
	return 0
}
