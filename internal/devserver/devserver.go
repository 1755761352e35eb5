// Package devserver runs the Temporal CLI's dev server (with its Web UI when asked)
// with every ekmsync search attribute registered. The dev stack, the integration
// tests and the chaos suite all start Temporal through it.
package devserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/ekmsync/ekmsync/workflows"
)

// Options configure a dev server.
type Options struct {
	Path     string // the temporal binary; empty: FindCLI
	Port     int    // frontend port; 0: a free one
	UIPort   int    // Web UI port; 0: no UI (headless)
	DBFile   string // SQLite file to keep state in; empty: in memory
	LogLevel string // default "error"
	// CodecEndpoint is the codec server the Web UI calls to decrypt payloads
	// (the worker's /codec when EKMSYNC_PAYLOAD_KEY is set); empty: none.
	CodecEndpoint string
	Stdout        io.Writer
	Stderr        io.Writer
}

// Server is a running dev server.
type Server struct {
	cmd     *exec.Cmd
	address string
	uiPort  int
	done    chan struct{}
}

// FindCLI returns the path of the Temporal CLI: $EKMSYNC_TEMPORAL_CLI, else
// .bin/temporal at the repository root (built by 'make tools').
func FindCLI() (string, error) {
	if p := os.Getenv("EKMSYNC_TEMPORAL_CLI"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("EKMSYNC_TEMPORAL_CLI=%s: %w", p, err)
		}
		return p, nil
	}
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	p := filepath.Join(root, ".bin", "temporal")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("the Temporal CLI is not built at %s: run 'make tools' (it builds the CLI pinned in tools/go.mod), or set EKMSYNC_TEMPORAL_CLI", p)
	}
	return p, nil
}

// RepoRoot finds the repository root: the nearest parent with go.mod and tools/go.mod.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "tools", "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the ekmsync repository (no tools/go.mod above the working directory)")
		}
		dir = parent
	}
}

// OutputDir returns the git-ignored .test folder of the repository, joined with
// elem (e.g. "screenshots"), creating it: where the benchmarks, the chaos run and
// the browser test leave their reports.
func OutputDir(elem ...string) (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(append([]string{root, ".test"}, elem...)...)
	return dir, os.MkdirAll(dir, 0o755)
}

// Args returns the dev server's command-line arguments.
func Args(port, uiPort int, dbFile, logLevel, codecEndpoint string) []string {
	args := []string{"server", "start-dev", "--ip", "127.0.0.1", "--port", strconv.Itoa(port),
		"--namespace", "default", "--log-level", logLevel,
		"--dynamic-config-value", "frontend.enableServerVersionCheck=false",
		// The search attribute cache as in a production server (refreshed every
		// minute): the dev server's default reads the attributes from its
		// database on every use, hundreds of reads a second on its one SQLite
		// connection under the many-shops benchmark. Ours are registered at start
		// (below), and 'starter setup' lists them with a fresh read anyway.
		"--dynamic-config-value", "system.forceSearchAttributesCacheRefreshOnRead=false"}
	if uiPort == 0 {
		args = append(args, "--headless")
	} else {
		args = append(args, "--ui-port", strconv.Itoa(uiPort))
		if codecEndpoint != "" {
			args = append(args, "--ui-codec-endpoint", codecEndpoint)
		}
	}
	if dbFile != "" {
		args = append(args, "--db-filename", dbFile)
	}
	for _, sa := range workflows.SearchAttributes {
		args = append(args, "--search-attribute", sa.Name+"="+sa.Type)
	}
	return args
}

// Start runs a dev server and waits until it answers. It runs in its own process
// group (see ChildProcAttr): a Ctrl-C reaches it only through Stop.
func Start(ctx context.Context, opts Options) (*Server, error) {
	path := opts.Path
	if path == "" {
		p, err := FindCLI()
		if err != nil {
			return nil, err
		}
		path = p
	}
	port := opts.Port
	if port == 0 {
		p, err := FreePort()
		if err != nil {
			return nil, err
		}
		port = p
	}
	logLevel := opts.LogLevel
	if logLevel == "" {
		logLevel = "error"
	}
	cmd := exec.Command(path, Args(port, opts.UIPort, opts.DBFile, logLevel, opts.CodecEndpoint)...)
	cmd.Stdout, cmd.Stderr = opts.Stdout, opts.Stderr
	cmd.SysProcAttr = ChildProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the Temporal dev server (%s): %w", path, err)
	}
	s := &Server{cmd: cmd, address: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), uiPort: opts.UIPort, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(s.done) }()
	if err := s.waitReady(ctx); err != nil {
		_ = s.Stop()
		return nil, err
	}
	return s, nil
}

func (s *Server) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	for {
		c, err := client.Dial(client.Options{HostPort: s.address, Logger: quietLogger{}})
		if err == nil {
			_, err = c.CheckHealth(ctx, &client.CheckHealthRequest{})
			c.Close()
			if err == nil {
				return nil
			}
		}
		select {
		case <-s.done:
			return errors.New("the Temporal dev server exited during start-up (is its port taken?)")
		case <-ctx.Done():
			return fmt.Errorf("the Temporal dev server did not answer at %s: %w", s.address, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Address is the frontend's host:port (TEMPORAL_ADDRESS).
func (s *Server) Address() string { return s.address }

// UIURL is the Web UI's URL, or "" when headless.
func (s *Server) UIURL() string {
	if s.uiPort == 0 {
		return ""
	}
	return "http://localhost:" + strconv.Itoa(s.uiPort)
}

// Stop interrupts the server and waits for it, killing it after 10 seconds.
func (s *Server) Stop() error {
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	return nil
}

// FreePort returns a TCP port on 127.0.0.1 that is free now, chosen below the
// kernel's ephemeral range (32768 and up on Linux, 49152 on macOS): a port the
// kernel hands out for ":0" and that is then closed can be taken as the local
// port of any outgoing connection before the caller listens on it, which made
// tests fail with "address already in use" while many ran at once. Only when
// no port there is free does it ask the kernel.
func FreePort() (int, error) {
	for range 50 {
		p := freePortLow + rand.IntN(freePortSpan)
		if l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p)); err == nil {
			_ = l.Close()
			return p, nil
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// The ports FreePort picks from: [freePortLow, freePortLow+freePortSpan).
const (
	freePortLow  = 20000
	freePortSpan = 12000
)

// quietLogger drops the SDK's logs while polling for readiness.
type quietLogger struct{}

func (quietLogger) Debug(string, ...any) {}
func (quietLogger) Info(string, ...any)  {}
func (quietLogger) Warn(string, ...any)  {}
func (quietLogger) Error(string, ...any) {}
