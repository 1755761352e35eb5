package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"

	"github.com/ekmsync/ekmsync/internal/codec"
	"github.com/ekmsync/ekmsync/internal/config"
	"github.com/ekmsync/ekmsync/internal/flows"
	"github.com/ekmsync/ekmsync/internal/logging"
	"github.com/ekmsync/ekmsync/internal/secret"
	"github.com/ekmsync/ekmsync/internal/store"
	"github.com/ekmsync/ekmsync/internal/tclient"
)

// env opens what a command needs, lazily, and closes it afterwards.
type env struct {
	io IO

	cfg      *config.Starter
	pool     *pgxpool.Pool
	temporal client.Client
}

func (e *env) config() (*config.Starter, error) {
	if e.cfg != nil {
		return e.cfg, nil
	}
	if e.io.Config != nil {
		e.cfg = e.io.Config
		return e.cfg, nil
	}
	var cfg config.Starter
	if err := config.Load(&cfg); err != nil {
		return nil, err
	}
	e.cfg = &cfg
	return e.cfg, nil
}

// store connects to the hub database.
func (e *env) store(ctx context.Context) (*store.Store, error) {
	if e.pool == nil {
		cfg, err := e.config()
		if err != nil {
			return nil, err
		}
		pool, err := store.Connect(ctx, string(cfg.DatabaseURL))
		if err != nil {
			return nil, fmt.Errorf("%w (is PostgreSQL running, and EKMSYNC_DATABASE_URL right? 'starter migrate' creates the database)", err)
		}
		e.pool = pool
	}
	return store.New(e.pool), nil
}

// key returns the secret key, which commands that touch credentials need.
func (e *env) key() (*secret.Key, error) {
	cfg, err := e.config()
	if err != nil {
		return nil, err
	}
	if len(cfg.SecretKey) == 0 {
		return nil, errors.New("EKMSYNC_SECRET_KEY is not set: it encrypts client secrets and tokens (make dev writes one to .dev/secret.key; 'starter keygen' prints a new one)")
	}
	return secret.NewKey(cfg.SecretKey)
}

// client connects to Temporal.
func (e *env) client(ctx context.Context) (client.Client, error) {
	if e.temporal == nil {
		cfg, err := e.config()
		if err != nil {
			return nil, err
		}
		// The starter's own output is its result; the SDK's log lines go to stderr at
		// EKMSYNC_LOG_LEVEL (warnings and errors by default for the CLI: info is the
		// worker's level, and a CLI that chats on every call hides its answer).
		level := cfg.LogLevel.Level()
		if level < slog.LevelWarn && os.Getenv("EKMSYNC_LOG_LEVEL") == "" {
			level = slog.LevelWarn
		}
		opts := tclient.Options{Logger: logging.NewLogger(e.io.Stderr, cfg.LogFormat.JSON(), level)}
		if len(cfg.PayloadKey) > 0 {
			key, err := secret.NewKey(cfg.PayloadKey)
			if err != nil {
				return nil, fmt.Errorf("EKMSYNC_PAYLOAD_KEY: %w", err)
			}
			opts.DataConverter = codec.DataConverter(key)
		}
		c, err := tclient.Dial(ctx, cfg.Temporal, opts)
		if err != nil {
			return nil, fmt.Errorf("%w (is the worker's Temporal running? 'make dev' starts one)", err)
		}
		e.temporal = c
	}
	return e.temporal, nil
}

// workflows returns the Temporal starter on the configured task queue.
func (e *env) workflows(ctx context.Context) (flows.Starter, error) {
	c, err := e.client(ctx)
	if err != nil {
		return flows.Starter{}, err
	}
	return flows.Starter{Client: c, TaskQueue: e.cfg.TaskQueue}, nil
}

func (e *env) close() {
	if e.temporal != nil {
		e.temporal.Close()
	}
	if e.pool != nil {
		e.pool.Close()
	}
}
