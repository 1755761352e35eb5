package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ekmsync/ekmsync/internal/ekmsim"
)

// readBanner reads the three start-up lines and returns the URL.
func readBanner(t *testing.T, r io.Reader) string {
	t.Helper()
	sc := bufio.NewScanner(r)
	var lines []string
	for len(lines) < 3 && sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) != 3 {
		t.Fatalf("start-up lines %q, want 3", lines)
	}
	url, ok := strings.CutPrefix(lines[0], "ekmsim listening on ")
	if !ok || !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("first line %q", lines[0])
	}
	if lines[1] != "client_id=ekmsim-demo-client" || lines[2] != "client_secret=ekmsim-demo-secret" {
		t.Fatalf("client lines %q", lines[1:])
	}
	return url
}

func TestRunServesAndStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-products", "5", "-orders", "5"}, pw, io.Discard)
		pw.Close()
	}()
	url := readBanner(t, pr)
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	resp, err := http.Get(url + "/admin/requests")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("admin status %d", resp.StatusCode)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run returned %v after cancel", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not stop after its context was cancelled")
	}
}

func TestHelpListsEveryFlag(t *testing.T) {
	var stderr bytes.Buffer
	err := run(context.Background(), []string{"-help"}, io.Discard, &stderr)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-help returned %v", err)
	}
	for _, name := range []string{
		"addr", "seed", "products", "orders", "variant-share", "sku-problems", "bucket-size", "leak-rate",
		"access-ttl", "refresh-ttl", "fault-5xx", "fault-429", "fault-latency", "latency", "fault-reset",
		"fault-malformed", "fault-truncated", "order-every", "auto-approve", "demo", "client-id", "client-secret", "shop", "shops",
	} {
		if !strings.Contains(stderr.String(), "  -"+name+" ") && !strings.Contains(stderr.String(), "  -"+name+"\n") {
			t.Errorf("-help does not list -%s", name)
		}
	}
}

func TestDemoPresetAndOverrides(t *testing.T) {
	parse := func(args ...string) ekmsim.Options {
		t.Helper()
		cfg, err := parseFlags(args, io.Discard)
		if err != nil {
			t.Fatalf("parseFlags(%q): %v", args, err)
		}
		return cfg.opts
	}
	plain := parse()
	if plain.OrderEvery != 0 || plain.AutoApprove || plain.Products != 500 || plain.BucketSize != 40 || plain.AccessTokenTTL != time.Hour {
		t.Errorf("defaults %+v", plain)
	}
	demo := parse("-demo")
	if demo.OrderEvery != 30*time.Second || !demo.AutoApprove || demo.WebhookDuplicateRate != 0.05 || demo.Products != 500 || demo.Orders != 300 {
		t.Errorf("-demo %+v", demo)
	}
	o := parse("-demo", "-order-every", "0", "-products", "7", "-shop", "acme", "-fault-5xx", "0.2",
		"-fault-latency", "0.5", "-latency", "1s", "-leak-rate", "4", "-access-ttl", "10s")
	if o.OrderEvery != 0 || o.Products != 7 || !o.AutoApprove || o.ShopUsername != "acme" || o.Faults.ServerError != 0.2 ||
		o.Faults.Latency != 0.5 || o.Faults.LatencyDuration != time.Second || o.LeakPerSecond != 4 || o.AccessTokenTTL != 10*time.Second {
		t.Errorf("-demo with overrides %+v", o)
	}
	if o := parse("-auto-approve=false", "-demo"); o.AutoApprove {
		t.Error("an explicit -auto-approve=false must win over -demo")
	}
	if _, err := parseFlags([]string{"stray"}, io.Discard); err == nil {
		t.Error("a stray argument was accepted")
	}
}

// TestMainStopsOnSIGTERM runs the real main in a child process and stops it
// with SIGTERM, as a process manager would.
func TestMainStopsOnSIGTERM(t *testing.T) {
	if os.Getenv("EKMSIM_RUN_MAIN") == "1" {
		os.Args = []string{"ekmsim", "-addr", "127.0.0.1:0", "-products", "3", "-orders", "3"}
		main()
		os.Exit(0)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestMainStopsOnSIGTERM$")
	cmd.Env = append(os.Environ(), "EKMSIM_RUN_MAIN=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	url := readBanner(t, stdout)
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	if resp, err := http.Get(url + "/admin/requests"); err != nil {
		t.Errorf("GET: %v", err)
	} else {
		resp.Body.Close()
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	select {
	case err := <-waited:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v; stderr:\n%s", err, stderr.String())
		}
		if !strings.Contains(stderr.String(), "shutting down") {
			t.Errorf("no shutdown log line in:\n%s", stderr.String())
		}
	case <-time.After(15 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("ekmsim did not exit within 15 s of SIGTERM")
	}
}

// -shops serves a farm: each shop under /shops/<name>, an unknown one a 404; a
// flag that names the one shop's client is refused with it.
func TestShopsServesAFarm(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-shops", "2", "-products", "3", "-orders", "2"}, pw, io.Discard)
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	var lines []string
	for len(lines) < 3 && sc.Scan() {
		lines = append(lines, sc.Text())
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "ekmsim farm listening on http://127.0.0.1:") ||
		!strings.HasPrefix(lines[1], "shops=2 (shop-001 to shop-002)") || !strings.Contains(lines[2], "shop-001-client") {
		t.Fatalf("start-up lines %q", lines)
	}
	url := strings.TrimPrefix(lines[0], "ekmsim farm listening on ")
	for shop, want := range map[string]int{"shop-002": http.StatusUnauthorized, "shop-003": http.StatusNotFound} {
		resp, err := http.Get(ekmsim.BaseURL(url, shop) + "/api/v1/settings/currency")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%s answered %d without a token, want %d", shop, resp.StatusCode, want)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("run returned %v after cancel", err)
	}
	for _, args := range [][]string{{"-shops", "2", "-client-id", "x"}, {"-shops", "-1"}, {"-shops", "1000"}} {
		if _, err := parseFlags(args, io.Discard); err == nil {
			t.Errorf("%q was accepted", args)
		}
	}
}
