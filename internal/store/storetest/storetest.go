// Package storetest gives each test its own PostgreSQL schema, migrated and dropped
// afterwards, in a test database on the local server.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ekmsync/ekmsync/internal/store"
)

// DefaultURL is the test database used unless EKMSYNC_TEST_DATABASE_URL says otherwise.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/ekmsync_test?sslmode=disable"

// BaseURL returns the test database URL.
func BaseURL() string {
	if u := os.Getenv("EKMSYNC_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultURL
}

// TB is the part of testing.TB the test helpers use. The benchmark and chaos
// programs, which run outside 'go test', implement it too.
type TB interface {
	// Helper marks the caller as a helper, for error lines.
	Helper()
	// Fatal logs args and stops the test.
	Fatal(args ...any)
	// Fatalf logs a formatted message and stops the test.
	Fatalf(format string, args ...any)
	// Logf logs a formatted message.
	Logf(format string, args ...any)
	// Cleanup registers f to run when the test ends.
	Cleanup(f func())
	// TempDir returns a directory removed when the test ends.
	TempDir() string
	// Name is the test's name.
	Name() string
}

// DB is one test's isolated schema.
type DB struct {
	// URL connects to the test's schema (search_path set), for a worker process.
	URL    string
	Schema string
	Pool   *pgxpool.Pool
	Store  *store.Store
}

// New creates a fresh schema, migrates it and drops it when the test ends. Without a
// reachable PostgreSQL the test fails and says how to start one: it never skips.
func New(t TB) *DB {
	t.Helper()
	db := NewEmpty(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := store.Migrate(ctx, db.Pool); err != nil {
		t.Fatalf("migrate test schema: %v", err)
	}
	return db
}

// NewEmpty is New without the migrations, for tests of the migrator itself.
func NewEmpty(t TB) *DB { return newEmptyAt(t, BaseURL()) }

// NewAt is New on the server and database of base (the chaos suite's private server).
func NewAt(t TB, base string) *DB {
	t.Helper()
	db := newEmptyAt(t, base)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := store.Migrate(ctx, db.Pool); err != nil {
		t.Fatalf("migrate test schema: %v", err)
	}
	return db
}

func newEmptyAt(t TB, base string) *DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := store.EnsureDatabase(ctx, base); err != nil {
		t.Fatalf("PostgreSQL is needed for this test and is not usable at %s: %v\n"+
			"Start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start\n"+
			"or point EKMSYNC_TEST_DATABASE_URL at a server where the user may create databases.", store.Redact(base), err)
	}
	admin, err := store.Connect(ctx, base)
	if err != nil {
		t.Fatalf("%v", err)
	}
	defer admin.Close()

	suffix := make([]byte, 6)
	_, _ = rand.Read(suffix)
	schema := "t_" + hex.EncodeToString(suffix)
	if _, err := admin.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatalf("create test schema: %v", err)
	}
	u, _ := url.Parse(base)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()

	pool, err := store.Connect(ctx, u.String())
	if err != nil {
		t.Fatalf("%v", err)
	}
	db := &DB{URL: u.String(), Schema: schema, Pool: pool, Store: store.New(pool)}
	t.Cleanup(func() {
		pool.Close()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if admin, err := store.Connect(ctx, base); err == nil {
			_, _ = admin.Exec(ctx, `DROP SCHEMA `+schema+` CASCADE`)
			admin.Close()
		}
	})
	return db
}
