package layers

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/ekmsync/ekmsync/"

// layer places every package of the module (by its path inside the module): a
// package may import only packages of a strictly lower layer. The order is the
// README's package table read bottom up: the pure rules, the EKM client and the
// secrets; what is built on them alone; the hub; a channel's connection; the
// activities; the workflows; the operator side and the worker; the binaries.
// Layer tooling holds the test harness, the benchmarks and the chaos run, which
// may use anything but which nothing of production may use (see testOnly).
var layer = map[string]int{
	"internal/channel": 0, "internal/ekm": 0, "internal/secret": 0, "internal/version": 0, "internal/config": 0,
	"internal/logging": 0, "internal/jobs": 0,
	"internal/ekm/ekmtest": 0,
	"internal/contract":    1, "internal/codec": 1, "internal/webhook": 1, "internal/tclient": 1, "internal/ekmsim": 1, "internal/ekm/ekmbench": 1,
	"internal/store": 2, "internal/present": 2, "internal/store/storetest": 3, "internal/store/hubtest": 4,
	"internal/shop": 3, "internal/order": 3,
	"activities": 4, "internal/refresh": 4,
	"workflows":      5,
	"internal/flows": 6, "internal/observe": 6, "internal/drift": 6,
	"internal/service": 7, "internal/cli": 7,
	"worker": 8, "starter": 8, "cmd/ekmsim": 8,

	"internal/devserver": tooling, "internal/process": tooling, "internal/temporaltest": tooling,
	"internal/harness": tooling, "internal/pgtemp": tooling, "internal/e2e": tooling, "internal/uitest": tooling,
	"internal/bench": tooling, "internal/chaos": tooling, "internal/compose": tooling, "internal/docscheck": tooling,
	"internal/cmd/devstack": tooling, "internal/cmd/bench": tooling, "internal/cmd/chaos": tooling, "internal/cmd/clidoc": tooling,
	"deploy/kubernetes": tooling, "internal/layers": tooling,
}

// tooling is the layer of test and development tools; they import each other
// freely (the harness starts the dev server, the dev server knows the workflows'
// search attributes), so imports within it are not ordered.
const tooling = 100

// testOnly are the packages that exist for tests and tools: no production binary
// may depend on them (river's "not-test" depguard rule).
var testOnly = []string{
	"internal/ekm/ekmtest", "internal/ekm/ekmbench", "internal/store/storetest", "internal/store/hubtest",
	"internal/devserver", "internal/process", "internal/temporaltest", "internal/harness", "internal/pgtemp",
	"internal/uitest", "internal/bench", "internal/chaos",
}

// production are the binaries users run.
var production = []string{"worker", "starter", "cmd/ekmsim"}

// deprecated are standard packages with a better replacement (river's "all"
// depguard rule); no package's non-test code imports them.
var deprecated = map[string]string{
	"io/ioutil": "use io and os",
	"math/rand": "use math/rand/v2",
	"log":       "use log/slog",
}

// mustNotDepend are the rules that keep each package to its job: the
// deterministic workflows never reach the database, and the operator CLI talks
// to Temporal and the hub, never through the activities' code.
var mustNotDepend = []struct {
	pkg, dep, why string
}{
	{"workflows", module + "internal/store", "workflows are deterministic: their contract types are their own, never the hub's rows"},
	{"workflows", "github.com/jackc/pgx", "workflows are deterministic and never reach PostgreSQL"},
	{"starter", module + "activities", "the operator CLI starts and queries workflows; it never runs activities' code"},
	{"workflows", "go.temporal.io/sdk/client", "workflows hold workflows and their contract types: starting, listing and terminating them is internal/flows'"},
	{"internal/present", module + "internal/store", "the workflows render their details with it: it formats contract types, never the hub's rows"},
	{"internal/present", "github.com/jackc/pgx", "the workflows render their details with it, and they never reach PostgreSQL"},
	{"internal/present", "go.temporal.io/sdk/client", "it only formats what it is given; talking to Temporal is internal/flows'"},
}

// knownExceptions are rule breaks the code has today (none), each with the
// step that removes it; a listed break that no longer happens fails the test so
// that the list only shrinks.
var knownExceptions = map[string]string{}

// stdlibOnly are the packages whose non-test code may use only the standard
// library, so that they stay pure and cheap to test (river's testsignal rule).
var stdlibOnly = []string{"internal/channel", "internal/secret", "internal/version"}

type pkg struct {
	ImportPath string
	Standard   bool
	Imports    []string
	Deps       []string
}

// list runs go list -deps -json over the module and returns its packages by
// their path inside the module, and every package seen by its full path.
func list(t *testing.T) (ours map[string]pkg, all map[string]pkg) {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "-json=ImportPath,Standard,Imports,Deps", module+"...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	ours, all = map[string]pkg{}, map[string]pkg{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		all[p.ImportPath] = p
		if rel, ok := strings.CutPrefix(p.ImportPath, module); ok {
			ours[rel] = p
		}
	}
	return ours, all
}

// Every package has a layer and imports only packages of lower layers.
func TestLowerLayersNeverImportHigherOnes(t *testing.T) {
	ours, _ := list(t)
	for rel, p := range ours {
		l, ok := layer[rel]
		if !ok {
			t.Errorf("%s has no layer: add it to the layer map of internal/layers (and to the README's package table)", rel)
			continue
		}
		for _, imp := range p.Imports {
			irel, ok := strings.CutPrefix(imp, module)
			if !ok {
				continue
			}
			il, known := layer[irel]
			if known && l != tooling && il >= l {
				t.Errorf("%s (layer %d) imports %s (layer %d): a package may import only lower layers", rel, l, irel, il)
			}
		}
	}
}

// The workflows never reach the hub's code or pgx, and the operator CLI never the
// activities, not even through another package.
func TestPackagesKeepToTheirJob(t *testing.T) {
	ours, _ := list(t)
	seen := map[string]bool{}
	for _, r := range mustNotDepend {
		p, ok := ours[r.pkg]
		if !ok {
			t.Fatalf("package %s is gone: update the rules of internal/layers", r.pkg)
		}
		key := r.pkg + " -> " + r.dep
		broken := slices.ContainsFunc(p.Deps, func(d string) bool { return d == r.dep || strings.HasPrefix(d, r.dep+"/") })
		switch step, known := knownExceptions[key]; {
		case broken && known:
			seen[key] = true
			t.Logf("known exception, removed by %s: %s depends on %s", step, r.pkg, r.dep)
		case broken:
			t.Errorf("%s depends on %s: %s", r.pkg, r.dep, r.why)
		case known:
			t.Errorf("%s no longer depends on %s: remove the known exception", r.pkg, r.dep)
		}
	}
}

// No production binary depends on a package that exists for tests and tools.
func TestProductionNeverDependsOnTestPackages(t *testing.T) {
	ours, _ := list(t)
	for _, bin := range production {
		for _, d := range ours[bin].Deps {
			if rel, ok := strings.CutPrefix(d, module); ok && slices.Contains(testOnly, rel) {
				t.Errorf("%s depends on %s, which is for tests and tools only", bin, rel)
			}
		}
	}
}

// No package imports a deprecated standard package, and the pure packages import
// only the standard library.
func TestImportsAreAllowed(t *testing.T) {
	ours, all := list(t)
	for rel, p := range ours {
		for _, imp := range p.Imports {
			if why, bad := deprecated[imp]; bad {
				t.Errorf("%s imports %s: %s", rel, imp, why)
			}
		}
	}
	for _, rel := range stdlibOnly {
		for _, d := range ours[rel].Deps {
			if !all[d].Standard {
				t.Errorf("%s depends on %s: it may use only the standard library", rel, d)
			}
		}
	}
}
