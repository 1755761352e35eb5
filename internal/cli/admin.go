package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"

	"github.com/ekmsync/ekmsync/internal/config"
	"github.com/ekmsync/ekmsync/internal/secret"
	"github.com/ekmsync/ekmsync/internal/store"
	"github.com/ekmsync/ekmsync/internal/tclient"
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
	// Obsolete are the names of an earlier ekmsync still registered in the namespace.
	Obsolete []string `json:"obsolete,omitempty"`
	// Cloud is set on Temporal Cloud, where the operator API cannot add search
	// attributes: ToAdd lists what the operator must add, and how.
	Cloud bool     `json:"temporal_cloud,omitempty"`
	ToAdd []string `json:"to_add,omitempty"`
	Howto []string `json:"how_to_add,omitempty"`
}

func (r setupResult) text(w io.Writer) {
	if len(r.Registered) > 0 {
		fmt.Fprintf(w, "registered search attributes in namespace %s: %s\n", r.Namespace, strings.Join(r.Registered, ", "))
	}
	if len(r.Existing) > 0 {
		fmt.Fprintf(w, "already registered: %s\n", strings.Join(r.Existing, ", "))
	}
	if len(r.ToAdd) > 0 {
		fmt.Fprintf(w, "Temporal Cloud does not let clients add search attributes; add these to namespace %s yourself:\n", r.Namespace)
		for _, h := range r.Howto {
			fmt.Fprintln(w, "  "+h)
		}
		fmt.Fprintln(w, "then run 'starter setup' again to check.")
	}
	if len(r.Obsolete) > 0 {
		fmt.Fprintf(w, "obsolete (names of an earlier ekmsync): %s; once every loop runs on this version, remove them:\n", strings.Join(r.Obsolete, ", "))
		for _, name := range r.Obsolete {
			fmt.Fprintf(w, "  temporal operator search-attribute remove --namespace %s --name %s --yes\n", r.Namespace, name)
		}
	}
}

func setupCommand() *command {
	return &command{
		name: "setup",
		summary: "register ekmsync's custom search attributes in its Temporal namespace (idempotent); on Temporal Cloud, " +
			"say how to add them; refuse a namespace that holds another application's search attributes",
		run: func(ctx context.Context, e *env, _ *flag.FlagSet, args []string) (result, error) {
			if err := needArgs(args); err != nil {
				return nil, err
			}
			cfg, err := e.config()
			if err != nil {
				return nil, err
			}
			co, err := tclient.ClientOptions(cfg.Temporal, tclient.Options{})
			if err != nil {
				return nil, err
			}
			c, err := e.client(ctx)
			if err != nil {
				return nil, err
			}
			ns, cloud := co.Namespace, tclient.IsTemporalCloud(co.HostPort)
			existing, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: ns})
			if err != nil {
				if cloud || refused(err) {
					return cloudSetup(ns, nil), nil
				}
				return nil, fmt.Errorf("list search attributes: %w", err)
			}
			res, want, err := planSetup(ns, existing.GetCustomAttributes())
			if err != nil {
				return nil, err
			}
			if len(want) == 0 {
				return res, nil
			}
			if cloud {
				return cloudSetup(ns, &res), nil
			}
			_, err = c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{Namespace: ns, SearchAttributes: want})
			if _, already := err.(*serviceerror.AlreadyExists); err != nil && !already {
				if refused(err) {
					return cloudSetup(ns, &res), nil
				}
				if len(res.Obsolete) > 0 {
					return nil, fmt.Errorf("register search attributes: %w; the names of an earlier ekmsync (%s) may hold the slots the new ones need: "+
						"stop the workers, remove them (temporal operator search-attribute remove --namespace %s --name <name> --yes), run 'starter setup' again, then start the new workers",
						err, strings.Join(res.Obsolete, ", "), ns)
				}
				return nil, fmt.Errorf("register search attributes: %w", err)
			}
			return res, nil
		},
	}
}

// planSetup compares the namespace's custom search attributes with ekmsync's: it
// returns what to register, what is there already, and the obsolete names of an
// earlier ekmsync. An attribute of ekmsync's name with another type, or any custom
// attribute that is not ekmsync's, is an error: ekmsync wants a namespace of its
// own, since its three Datetime attributes take every Datetime slot that SQL
// visibility (PostgreSQL, MySQL, SQLite) has in a namespace.
func planSetup(ns string, have map[string]enums.IndexedValueType) (setupResult, map[string]enums.IndexedValueType, error) {
	res := setupResult{Namespace: ns}
	want := map[string]enums.IndexedValueType{}
	ours := map[string]bool{}
	for _, sa := range workflows.SearchAttributes {
		ours[sa.Name] = true
		t := saType(sa.Type)
		if got, ok := have[sa.Name]; ok {
			if got != t {
				return res, nil, fmt.Errorf("search attribute %s exists in namespace %s with type %s, want %s: remove it, or give ekmsync a namespace of its own", sa.Name, ns, got, t)
			}
			res.Existing = append(res.Existing, sa.Name)
			continue
		}
		want[sa.Name] = t
		res.Registered = append(res.Registered, sa.Name)
	}
	var others []string
	for name := range have {
		switch {
		case ours[name]:
		case slices.Contains(workflows.LegacySearchAttributes, name):
			res.Obsolete = append(res.Obsolete, name)
		default:
			others = append(others, name)
		}
	}
	slices.Sort(res.Obsolete)
	if len(others) > 0 {
		slices.Sort(others)
		return res, nil, fmt.Errorf("namespace %s holds search attributes that are not ekmsync's (%s): ekmsync wants a namespace of its own, "+
			"since its attributes take every Datetime slot SQL visibility has in one; create one "+
			"(temporal operator namespace create --namespace ekmsync), set TEMPORAL_NAMESPACE=ekmsync for the worker and the starter, and run 'starter setup' again",
			ns, strings.Join(others, ", "))
	}
	return res, want, nil
}

// cloudSetup is setup's answer on Temporal Cloud, whose operator API does not add
// search attributes: what to add and how. planned is nil when the attributes could
// not even be listed (then all of them are listed).
func cloudSetup(ns string, planned *setupResult) setupResult {
	res := setupResult{Namespace: ns, Cloud: true}
	if planned != nil {
		res = *planned
		res.Cloud, res.Registered = true, nil
	}
	add := []string{"tcld namespace search-attributes add --namespace " + ns}
	for _, sa := range workflows.SearchAttributes {
		if planned != nil && slices.Contains(planned.Existing, sa.Name) {
			continue
		}
		res.ToAdd = append(res.ToAdd, sa.Name+"="+sa.Type)
		add = append(add, "--search-attribute "+sa.Name+"="+sa.Type)
	}
	res.Howto = []string{strings.Join(add, " "),
		"or in the Cloud UI, on namespace " + ns + "'s page, under Custom Search Attributes: one per name and type above"}
	return res
}

// refused is the operator API saying no: Temporal Cloud answers AddSearchAttributes
// (and, for some keys, ListSearchAttributes) with PermissionDenied or Unimplemented.
func refused(err error) bool {
	var denied *serviceerror.PermissionDenied
	var unimplemented *serviceerror.Unimplemented
	return errors.As(err, &denied) || errors.As(err, &unimplemented)
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
