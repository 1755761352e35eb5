package service

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ekmsync/ekmsync/internal/devserver"
)

// startListener serves a handler that reads the whole body, with lim, as Run
// serves the public and the admin listener.
func startListener(t *testing.T, lim limits) string {
	t.Helper()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = w.Write([]byte("ok\n"))
	})
	srv, addr, err := serve("127.0.0.1:0", "TEST_ADDR", "test", h, lim, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return addr.String()
}

// trickle sends head, then one byte a second, and reports whether the server
// cut the connection off before the client had trickled for bound.
func trickle(t *testing.T, addr, head string, bound time.Duration) bool {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	closed := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, conn) // returns when the server closes the connection
		close(closed)
	}()
	if _, err := conn.Write([]byte(head)); err != nil {
		t.Fatal(err)
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for end := time.Now().Add(bound); time.Now().Before(end); {
		select {
		case <-closed:
			return true
		case <-tick.C:
			if _, err := conn.Write([]byte("a")); err != nil {
				return true
			}
		}
	}
	return false
}

// Clients that trickle their headers or their body a byte a second are cut off
// by both listeners' read timeouts, instead of holding a connection for as long
// as they trickle.
func TestListenersCutOffSlowClients(t *testing.T) {
	for name, lim := range map[string]limits{"public": publicLimits, "admin": adminLimits} {
		addr := startListener(t, lim)
		t.Run(name+" headers", func(t *testing.T) {
			t.Parallel()
			if !trickle(t, addr, "POST /x HTTP/1.1\r\nHost: x\r\nX-Slow: ", 3*lim.readHeader) {
				t.Fatalf("a client trickling its headers was still connected after %s (read header timeout %s)", 3*lim.readHeader, lim.readHeader)
			}
		})
		t.Run(name+" body", func(t *testing.T) {
			t.Parallel()
			head := "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n"
			if !trickle(t, addr, head, 3*lim.read) {
				t.Fatalf("a client trickling its body was still connected after %s (read timeout %s)", 3*lim.read, lim.read)
			}
		})
		t.Run(name+" header size", func(t *testing.T) {
			t.Parallel()
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			_, _ = fmt.Fprintf(conn, "GET /x HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\n\r\n", strings.Repeat("b", 2*lim.maxHeaderBytes+8192))
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
				t.Fatalf("headers of %d bytes: %s, want 431", 2*lim.maxHeaderBytes, resp.Status)
			}
		})
	}
}

// The public /healthz says only "unavailable" when a dependency is down; the
// admin one says which and why.
func TestHealthOnThePublicListenerHidesTheError(t *testing.T) {
	port, err := devserver.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.New(context.Background(), fmt.Sprintf("postgres://secretuser@127.0.0.1:%d/hub?sslmode=disable&connect_timeout=2", port))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	for _, private := range []bool{false, true} {
		rec := httptest.NewRecorder()
		healthz(pool, nil, private)(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
		body := rec.Body.String()
		switch {
		case rec.Code != http.StatusServiceUnavailable:
			t.Fatalf("private=%v: %d with PostgreSQL down", private, rec.Code)
		case !private && (body != "unavailable\n"):
			t.Fatalf("public health answer tells %q", body)
		case private && !strings.Contains(body, "postgres: "):
			t.Fatalf("admin health answer does not say why: %q", body)
		}
	}
}
