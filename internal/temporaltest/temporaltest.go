// Package temporaltest shares one real Temporal dev server among the tests of a
// package. A package that uses it calls Main from its TestMain, so that the server
// stops when the tests end.
package temporaltest

import (
	"context"
	"os"
	"sync"
	"testing"

	"go.temporal.io/sdk/client"

	"github.com/ekmsync/ekmsync/internal/devserver"
	"github.com/ekmsync/ekmsync/internal/store/storetest"
)

var (
	once     sync.Once
	server   *devserver.Server
	startErr error
)

// Main runs the package's tests and then stops the dev server, if one was started.
func Main(m *testing.M) {
	code := m.Run()
	Stop()
	os.Exit(code)
}

// Stop stops the dev server, if one was started.
func Stop() {
	if server != nil {
		_ = server.Stop()
	}
}

// Server returns the package's dev server, starting it on first use. Without the
// Temporal CLI the test fails and says how to build it: it never skips.
func Server(t storetest.TB) *devserver.Server {
	t.Helper()
	once.Do(func() {
		server, startErr = devserver.Start(context.Background(), devserver.Options{Stderr: os.Stderr})
	})
	if startErr != nil {
		t.Fatalf("a Temporal dev server is needed for this test: %v", startErr)
	}
	return server
}

// Client dials the package's dev server; the client is closed when the test ends.
func Client(t storetest.TB) client.Client {
	t.Helper()
	s := Server(t)
	c, err := client.Dial(client.Options{HostPort: s.Address(), Logger: nopLogger{}})
	if err != nil {
		t.Fatalf("dial the Temporal dev server at %s: %v", s.Address(), err)
	}
	t.Cleanup(c.Close)
	return c
}

type nopLogger struct{}

func (nopLogger) Debug(string, ...any) {}
func (nopLogger) Info(string, ...any)  {}
func (nopLogger) Warn(string, ...any)  {}
func (nopLogger) Error(string, ...any) {}
