package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed migration/*.up.sql
var migrationFS embed.FS

// Migration is one numbered SQL migration embedded in the binary.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Migrations returns the embedded migrations in version order. Files are named
// NNN_name.up.sql; a malformed name is a programming error and panics at start.
func Migrations() []Migration {
	return mustParseMigrations(migrationFS, "migration")
}

func mustParseMigrations(fsys fs.FS, dir string) []Migration {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		panic(err)
	}
	var out []Migration
	seen := map[int]string{}
	for _, e := range entries {
		name := e.Name()
		num, rest, ok := strings.Cut(strings.TrimSuffix(name, ".up.sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			panic(fmt.Sprintf("store: migration file %q is not named NNN_name.up.sql", name))
		}
		if prev, dup := seen[v]; dup {
			panic(fmt.Sprintf("store: migrations %q and %q share version %d", prev, name, v))
		}
		seen[v] = name
		body, err := fs.ReadFile(fsys, path.Join(dir, name))
		if err != nil {
			panic(err)
		}
		out = append(out, Migration{Version: v, Name: rest, SQL: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out
}

// MigrateResult says what Migrate did.
type MigrateResult struct {
	Applied []int `json:"applied"` // versions applied by this call
	Current int   `json:"current"` // the schema version afterwards
}

// Migrate applies the pending embedded migrations. It holds a PostgreSQL advisory
// lock (per schema) for the whole run, so that two workers starting at once apply
// each migration exactly once; each migration runs in its own transaction together
// with the row that records it, so one that fails leaves the schema as it was.
func Migrate(ctx context.Context, pool *pgxpool.Pool) (MigrateResult, error) {
	return migrate(ctx, pool, Migrations())
}

func migrate(ctx context.Context, pool *pgxpool.Pool, migrations []Migration) (MigrateResult, error) {
	var res MigrateResult
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return res, fmt.Errorf("migrate: connect: %w", err)
	}
	defer conn.Release()

	const lockKey = `hashtext('ekmsync-migrate:' || current_schema())`
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(`+lockKey+`)`); err != nil {
		return res, fmt.Errorf("migrate: take the migration lock: %w", err)
	}
	defer func() {
		// Unlock on a fresh context: the caller's may be cancelled by now.
		_, _ = conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(`+lockKey+`)`)
	}()

	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    integer PRIMARY KEY,
		name       text NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return res, fmt.Errorf("migrate: create schema_migrations: %w", err)
	}
	applied := map[int]bool{}
	rows, err := conn.Query(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return res, fmt.Errorf("migrate: read applied versions: %w", err)
	}
	versions, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		return res, fmt.Errorf("migrate: read applied versions: %w", err)
	}
	for _, v := range versions {
		applied[v] = true
		res.Current = max(res.Current, v)
	}

	for _, m := range migrations {
		if applied[m.Version] {
			continue
		}
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name)
			return err
		})
		if err != nil {
			return res, fmt.Errorf("migrate: %03d_%s failed, schema left at version %d: %w", m.Version, m.Name, res.Current, err)
		}
		res.Applied = append(res.Applied, m.Version)
		res.Current = max(res.Current, m.Version)
	}
	return res, nil
}

// MigrateFrom applies the migrations found in dir of fsys instead of the embedded
// ones; it exists for tests of the migrator.
func MigrateFrom(ctx context.Context, pool *pgxpool.Pool, fsys fs.FS, dir string) (MigrateResult, error) {
	return migrate(ctx, pool, mustParseMigrations(fsys, dir))
}
