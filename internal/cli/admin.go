package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"

	"github.com/ekmsync/ekmsync/internal/config"
	"github.com/ekmsync/ekmsync/internal/secret"
	"github.com/ekmsync/ekmsync/internal/store"
	"github.com/ekmsync/ekmsync/internal/version"
	"github.com/ekmsync/ekmsync/workflows"
)

type migrateResult struct {
	Database        string `json:"database"`
	CreatedDatabase bool   `json:"created_database"`
	store.MigrateResult
}

func (r migrateResult) text(w io.Writer) {
	if r.CreatedDatabase {
		fmt.Fprintf(w, "created database %s\n", r.Database)
	}
	if len(r.Applied) == 0 {
		fmt.Fprintf(w, "schema is up to date (version %d)\n", r.Current)
		return
	}
	fmt.Fprintf(w, "applied migrations %v; schema is at version %d\n", r.Applied, r.Current)
}

func migrateCommand() *command {
	return &command{
		name:    "migrate",
		summary: "create the hub database if needed and apply the pending migrations",
		run: func(ctx context.Context, e *env, _ *flag.FlagSet, args []string) (result, error) {
			if err := needArgs(args); err != nil {
				return nil, err
			}
			cfg, err := e.config()
			if err != nil {
				return nil, err
			}
			created, err := store.EnsureDatabase(ctx, string(cfg.DatabaseURL))
			if err != nil {
				return nil, err
			}
			st, err := e.store(ctx)
			if err != nil {
				return nil, err
			}
			res, err := store.Migrate(ctx, st.Pool)
			if err != nil {
				return nil, err
			}
			return migrateResult{Database: store.Redact(string(cfg.DatabaseURL)), CreatedDatabase: created, MigrateResult: res}, nil
		},
	}
}

type setupResult struct {
	Namespace  string   `json:"namespace"`
	Registered []string `json:"registered"`
	Existing   []string `json:"already_registered"`
}

func (r setupResult) text(w io.Writer) {
	if len(r.Registered) > 0 {
		fmt.Fprintf(w, "registered search attributes in namespace %s: %s\n", r.Namespace, strings.Join(r.Registered, ", "))
	}
	if len(r.Existing) > 0 {
		fmt.Fprintf(w, "already registered: %s\n", strings.Join(r.Existing, ", "))
	}
}

func setupCommand() *command {
	return &command{
		name:    "setup",
		summary: "register ekmsync's custom search attributes on the Temporal cluster (idempotent)",
		run: func(ctx context.Context, e *env, _ *flag.FlagSet, args []string) (result, error) {
			if err := needArgs(args); err != nil {
				return nil, err
			}
			cfg, err := e.config()
			if err != nil {
				return nil, err
			}
			c, err := e.client(ctx)
			if err != nil {
				return nil, err
			}
			res := setupResult{Namespace: cfg.Namespace}
			existing, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: cfg.Namespace})
			if err != nil {
				return nil, fmt.Errorf("list search attributes: %w", err)
			}
			want := map[string]enums.IndexedValueType{}
			for _, sa := range workflows.SearchAttributes {
				t := saType(sa.Type)
				if have, ok := existing.GetCustomAttributes()[sa.Name]; ok {
					if have != t {
						return nil, fmt.Errorf("search attribute %s exists with type %s, want %s: remove it or use another namespace", sa.Name, have, t)
					}
					res.Existing = append(res.Existing, sa.Name)
					continue
				}
				want[sa.Name] = t
				res.Registered = append(res.Registered, sa.Name)
			}
			if len(want) > 0 {
				_, err := c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{Namespace: cfg.Namespace, SearchAttributes: want})
				if _, already := err.(*serviceerror.AlreadyExists); err != nil && !already {
					return nil, fmt.Errorf("register search attributes: %w", err)
				}
			}
			return res, nil
		},
	}
}

func saType(name string) enums.IndexedValueType {
	switch name {
	case "Bool":
		return enums.INDEXED_VALUE_TYPE_BOOL
	case "Datetime":
		return enums.INDEXED_VALUE_TYPE_DATETIME
	default:
		return enums.INDEXED_VALUE_TYPE_KEYWORD
	}
}

type keygenResult struct {
	Key string `json:"key"`
}

func (r keygenResult) text(w io.Writer) { fmt.Fprintln(w, r.Key) }

func keygenCommand() *command {
	return &command{
		name:    "keygen",
		summary: "print a new random AES-256 key for EKMSYNC_SECRET_KEY or EKMSYNC_PAYLOAD_KEY",
		run: func(ctx context.Context, e *env, _ *flag.FlagSet, args []string) (result, error) {
			if err := needArgs(args); err != nil {
				return nil, err
			}
			return keygenResult{Key: secret.Generate()}, nil
		},
	}
}

type versionResult struct {
	Version string `json:"version"`
}

func (r versionResult) text(w io.Writer) { fmt.Fprintln(w, "starter "+r.Version) }

func versionCommand() *command {
	return &command{
		name:    "version",
		summary: "print the build's version (the worker's is 'worker --version')",
		run: func(ctx context.Context, e *env, _ *flag.FlagSet, args []string) (result, error) {
			if err := needArgs(args); err != nil {
				return nil, err
			}
			return versionResult{Version: version.String()}, nil
		},
	}
}

type rotateResult struct {
	Channels int    `json:"channels_resealed"`
	OldKeyID string `json:"old_key_id"`
	NewKeyID string `json:"new_key_id"`
}

func (r rotateResult) text(w io.Writer) {
	fmt.Fprintf(w, "re-encrypted the credentials of %d channels under key %s (was %s)\n", r.Channels, r.NewKeyID, r.OldKeyID)
	fmt.Fprintln(w, "now set EKMSYNC_SECRET_KEY to the new key for the worker and the starter, and restart the worker")
}

func rotateKeyCommand() *command {
	var newKeyFile string
	return &command{
		name: "rotate-key",
		summary: "re-encrypt every client secret and token under a new key; the old key is EKMSYNC_SECRET_KEY, " +
			"the new one comes from --new-key-file or $EKMSYNC_NEW_SECRET_KEY",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&newKeyFile, "new-key-file", "", "file holding the new key (base64 or hex, 32 bytes)")
		},
		run: func(ctx context.Context, e *env, _ *flag.FlagSet, args []string) (result, error) {
			if err := needArgs(args); err != nil {
				return nil, err
			}
			oldKey, err := e.key()
			if err != nil {
				return nil, err
			}
			raw := os.Getenv("EKMSYNC_NEW_SECRET_KEY")
			if newKeyFile != "" {
				b, err := os.ReadFile(newKeyFile)
				if err != nil {
					return nil, fmt.Errorf("--new-key-file: %w", err)
				}
				raw = string(b)
			}
			if strings.TrimSpace(raw) == "" {
				return nil, usagef("no new key: give --new-key-file or $EKMSYNC_NEW_SECRET_KEY ('starter keygen' makes one)")
			}
			b, err := config.ParseKey(raw)
			if err != nil {
				return nil, usagef("new key: %v", err)
			}
			newKey, err := secret.NewKey(b)
			if err != nil {
				return nil, err
			}
			st, err := e.store(ctx)
			if err != nil {
				return nil, err
			}
			n, err := st.RotateKey(ctx, oldKey, newKey)
			if err != nil {
				return nil, fmt.Errorf("nothing was changed: %w", err)
			}
			return rotateResult{Channels: n, OldKeyID: oldKey.ID(), NewKeyID: newKey.ID()}, nil
		},
	}
}
