package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/ekmsync/ekmsync/internal/store"
	"github.com/ekmsync/ekmsync/internal/store/storetest"
)

func TestMigrateAppliesAllOnceAndIsIdempotent(t *testing.T) {
	db := storetest.NewEmpty(t)
	ctx := context.Background()
	res, err := store.Migrate(ctx, db.Pool)
	if err != nil {
		t.Fatal(err)
	}
	all := store.Migrations()
	if len(res.Applied) != len(all) || res.Current != all[len(all)-1].Version {
		t.Fatalf("first run: %+v, want all %d migrations", res, len(all))
	}
	again, err := store.Migrate(ctx, db.Pool)
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Applied) != 0 || again.Current != res.Current {
		t.Fatalf("second run applied %v, want nothing", again.Applied)
	}
}

// Two workers starting at once against an empty database both come up, and the
// schema is created once.
func TestMigrateConcurrentStartersBothSucceed(t *testing.T) {
	db := storetest.NewEmpty(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	results := make([]store.MigrateResult, 4)
	errs := make([]error, 4)
	for i := range results {
		wg.Go(func() {
			pool, err := store.Connect(ctx, db.URL)
			if err != nil {
				errs[i] = err
				return
			}
			defer pool.Close()
			results[i], errs[i] = store.Migrate(ctx, pool)
		})
	}
	wg.Wait()
	total := 0
	for i, err := range errs {
		if err != nil {
			t.Fatalf("migrator %d: %v", i, err)
		}
		total += len(results[i].Applied)
	}
	if want := len(store.Migrations()); total != want {
		t.Fatalf("migrations applied %d times in all, want exactly %d", total, want)
	}
	var n int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil || n != len(store.Migrations()) {
		t.Fatalf("schema_migrations rows = %d (%v)", n, err)
	}
}

func TestMigrateFailureLeavesSchemaUnchanged(t *testing.T) {
	db := storetest.NewEmpty(t)
	ctx := context.Background()
	bad := fstest.MapFS{
		"m/001_ok.up.sql":     {Data: []byte(`CREATE TABLE first_table (id int);`)},
		"m/002_broken.up.sql": {Data: []byte(`CREATE TABLE half_done (id int); SELECT no_such_function();`)},
	}
	_, err := store.MigrateFrom(ctx, db.Pool, bad, "m")
	if err == nil {
		t.Fatal("broken migration reported success")
	}
	var exists bool
	_ = db.Pool.QueryRow(ctx, `SELECT to_regclass('half_done') IS NOT NULL`).Scan(&exists)
	if exists {
		t.Fatal("the failed migration's table exists: the failure was not rolled back")
	}
	_ = db.Pool.QueryRow(ctx, `SELECT to_regclass('first_table') IS NOT NULL`).Scan(&exists)
	if !exists {
		t.Fatal("the migration before the failing one was not kept")
	}
	var versions []int
	rows, _ := db.Pool.Query(ctx, `SELECT version FROM schema_migrations ORDER BY 1`)
	for rows.Next() {
		var v int
		_ = rows.Scan(&v)
		versions = append(versions, v)
	}
	if len(versions) != 1 || versions[0] != 1 {
		t.Fatalf("recorded versions %v, want [1]", versions)
	}
	if errors.Unwrap(err) == nil {
		t.Fatalf("error %q does not wrap the cause", err)
	}
}
