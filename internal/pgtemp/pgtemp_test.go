package pgtemp

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ekmsync/ekmsync/internal/store"
)

// A private server survives a restart with its data, and a connection that was open
// across the restart is cut (as the chaos suite relies on).
func TestRestartKeepsData(t *testing.T) {
	ctx := context.Background()
	s, err := Start(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	pool, err := store.Connect(ctx, s.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, `CREATE TABLE kept (v int); INSERT INTO kept VALUES (7)`); err != nil {
		t.Fatal(err)
	}
	if err := s.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	var v int
	deadline := time.Now().Add(10 * time.Second)
	for {
		err = pool.QueryRow(ctx, `SELECT v FROM kept`).Scan(&v)
		if err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil || v != 7 {
		t.Fatalf("after restart: %v, %v", v, err)
	}
}

// The server binaries are found on the PATH first, then where pg_config says they
// are (an installation with only its client tools on the PATH).
func TestBinDirLooksOnThePathAndAsksPgConfig(t *testing.T) {
	t.Setenv("EKMSYNC_PG_BIN", "")
	onPath, server, tools := t.TempDir(), t.TempDir(), t.TempDir()
	writeExec(t, filepath.Join(onPath, "initdb"), "#!/bin/sh\n")
	writeExec(t, filepath.Join(server, "initdb"), "#!/bin/sh\n")
	writeExec(t, filepath.Join(tools, "pg_config"), "#!/bin/sh\necho "+server+"\n")

	t.Setenv("PATH", onPath+string(os.PathListSeparator)+tools)
	if d, err := BinDir(); err != nil || d != onPath {
		t.Errorf("initdb on the PATH: BinDir() = %q, %v; want %q", d, err, onPath)
	}
	t.Setenv("PATH", tools)
	if d, err := BinDir(); err != nil || d != server {
		t.Errorf("only pg_config on the PATH: BinDir() = %q, %v; want pg_config's %q", d, err, server)
	}
}

func writeExec(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o755); err != nil {
		t.Fatal(err)
	}
}
