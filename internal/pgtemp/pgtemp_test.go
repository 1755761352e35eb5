package pgtemp

import (
	"context"
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
