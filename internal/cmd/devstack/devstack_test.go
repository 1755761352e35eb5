package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ekmsync/ekmsync/internal/devserver"
	"github.com/ekmsync/ekmsync/internal/process"
	"github.com/ekmsync/ekmsync/internal/store"
	"github.com/ekmsync/ekmsync/internal/store/storetest"
)

// 'make dev' brings the whole system up — Temporal with its UI, the simulator, the
// worker, the demo channel enabled with its listing download done — and Ctrl-C
// stops every process it started, cleanly.
func TestDevStackStartsEverythingAndCtrlCLeavesNothing(t *testing.T) {
	ctx := context.Background()
	bin := t.TempDir()
	for _, pkg := range []string{"./worker", "./cmd/ekmsim", "./internal/cmd/devstack"} {
		if _, err := process.Build(ctx, bin, pkg); err != nil {
			t.Fatal(err)
		}
	}
	dbURL := freshDatabase(t)
	ports := make([]int, 6)
	for i := range ports {
		p, err := devserver.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		ports[i] = p
	}
	addr := func(i int) string { return "127.0.0.1:" + strconv.Itoa(ports[i]) }
	cmd := exec.Command(filepath.Join(bin, "devstack"), "-temporal-port", strconv.Itoa(ports[0]), "-ui-port", strconv.Itoa(ports[1]),
		"-worker-addr", addr(2), "-admin-addr", addr(5), "-sim-addr", addr(3), "-callback-addr", addr(4), "-state-dir", t.TempDir(), "-bin-dir", bin)
	cmd.Env = append(os.Environ(), "EKMSYNC_DATABASE_URL="+dbURL)
	cmd.SysProcAttr = devserver.ChildProcAttr() // a group of its own, as a terminal's job
	stdout, _ := cmd.StdoutPipe()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill() }()

	ready := make(chan string, 1)
	go func() {
		var seen strings.Builder
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			seen.WriteString(sc.Text() + "\n")
			if strings.Contains(sc.Text(), "ekmsync is running") {
				ready <- seen.String()
				_, _ = io.Copy(io.Discard, stdout)
				return
			}
		}
		ready <- seen.String()
	}()
	var out string
	select {
	case out = <-ready:
	case <-time.After(4 * time.Minute):
		t.Fatalf("make dev did not come up in 4 minutes; stderr:\n%s", stderr.String())
	}
	if !strings.Contains(out, "ekmsync is running") {
		t.Fatalf("make dev stopped before it was up:\n%s\nstderr:\n%s", out, stderr.String())
	}
	for _, url := range []string{"http://" + addr(2) + "/healthz", "http://" + addr(5) + "/metrics", "http://" + addr(3) + "/admin/requests", fmt.Sprintf("http://localhost:%d/", ports[1])} {
		resp, err := http.Get(url)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s does not answer: %v %v", url, err, resp)
		}
		resp.Body.Close()
	}
	pool, err := store.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var enabled, downloaded bool
	if err := pool.QueryRow(ctx, `SELECT c.enabled, d.completion_time IS NOT NULL FROM channels c JOIN listing_downloads d ON d.channel_id = c.id WHERE c.name = 'demo'`).Scan(&enabled, &downloaded); err != nil {
		t.Fatal(err)
	}
	if !enabled || !downloaded {
		t.Fatalf("demo channel enabled %v, listing download complete %v", enabled, downloaded)
	}

	children := childrenOf(cmd.Process.Pid)
	if len(children) < 3 {
		t.Fatalf("make dev runs %d child processes, want Temporal, the simulator and the worker", len(children))
	}
	// Ctrl-C on a terminal interrupts the whole foreground process group, not just
	// devstack: devstack's children must not see it and stop out of order.
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("make dev exited with %v after Ctrl-C; stderr:\n%s", err, stderr.String())
		}
	case <-time.After(90 * time.Second):
		t.Fatal("make dev did not stop within 90 s of Ctrl-C")
	}
	for _, pid := range children {
		if alive(pid) {
			t.Errorf("process %d that make dev started is still running after Ctrl-C", pid)
		}
	}
}

// freshDatabase names a new database on the test server, dropped afterwards.
func freshDatabase(t *testing.T) string {
	t.Helper()
	base := storetest.BaseURL()
	name := fmt.Sprintf("ekmsync_devstack_%d", time.Now().UnixNano())
	url := strings.Replace(base, "/ekmsync_test?", "/"+name+"?", 1)
	if url == base {
		t.Fatalf("cannot derive a database URL from %s", store.Redact(base))
	}
	t.Cleanup(func() {
		if pool, err := store.Connect(context.Background(), base); err == nil {
			_, _ = pool.Exec(context.Background(), `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`)
			pool.Close()
		}
	})
	return url
}

// childrenOf lists the processes whose parent is pid (ps, as on Linux and macOS).
func childrenOf(pid int) []int {
	out, _ := exec.Command("ps", "-A", "-o", "pid=", "-o", "ppid=").Output()
	var children []int
	for line := range strings.Lines(string(out)) {
		f := strings.Fields(line)
		if len(f) == 2 && f[1] == strconv.Itoa(pid) {
			if child, err := strconv.Atoi(f[0]); err == nil {
				children = append(children, child)
			}
		}
	}
	return children
}

// alive reports whether pid runs (a zombie, exited but not yet reaped, does not).
func alive(pid int) bool {
	out, err := exec.Command("ps", "-o", "stat=", "-p", strconv.Itoa(pid)).Output()
	st := strings.TrimSpace(string(out))
	return err == nil && st != "" && !strings.HasPrefix(st, "Z")
}
