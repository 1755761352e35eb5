// Package compose checks docker-compose.yml and the Dockerfile without a Docker engine.
// The compose file is loaded by compose-go, the loader Docker Compose itself uses
// (schema validation, interpolation, anchors, profiles), and the tests check what an
// operator relies on: Temporal set up the way Temporal's own compose files do it now,
// every port on 127.0.0.1, healthchecks, the starter in a profile, the codec endpoint
// only with payload encryption, variables our binaries read, pinned images.
package compose

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"go.yaml.in/yaml/v3"

	"github.com/ekmsync/ekmsync/internal/config"
)

const root = "../.."

// load loads docker-compose.yml as 'docker compose' would, with env as the only
// environment and the given profiles active.
func load(t *testing.T, env map[string]string, profiles ...string) *types.Project {
	t.Helper()
	p, err := loadErr(env, profiles...)
	if err != nil {
		t.Fatalf("docker-compose.yml does not load: %v", err)
	}
	return p
}

func loadErr(env map[string]string, profiles ...string) (*types.Project, error) {
	var kv []string
	for k, v := range env {
		kv = append(kv, k+"="+v)
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	opts, err := cli.NewProjectOptions([]string{filepath.Join(abs, "docker-compose.yml")},
		cli.WithWorkingDirectory(abs), cli.WithEnv(kv), cli.WithProfiles(profiles), cli.WithDiscardEnvFile)
	if err != nil {
		return nil, err
	}
	return opts.LoadProject(context.Background())
}

// baseEnv is the least an operator must set.
func baseEnv() map[string]string {
	return map[string]string{"EKMSYNC_SECRET_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="}
}

func service(t *testing.T, p *types.Project, name string) types.ServiceConfig {
	t.Helper()
	s, ok := p.Services[name]
	if !ok {
		t.Fatalf("no service %s (services: %v)", name, p.ServiceNames())
	}
	return s
}

func env(s types.ServiceConfig, key string) string {
	if v := s.Environment[key]; v != nil {
		return *v
	}
	return ""
}

func TestLoadsAndRequiresTheSecretKey(t *testing.T) {
	load(t, baseEnv())
	_, err := loadErr(map[string]string{})
	if err == nil || !strings.Contains(err.Error(), "EKMSYNC_SECRET_KEY") {
		t.Fatalf("without EKMSYNC_SECRET_KEY: %v, want an error naming it", err)
	}
}

func TestOurServicesUseOnlyKnownVariables(t *testing.T) {
	p := load(t, baseEnv(), "*")
	worker, starter := known(t, &config.Worker{}), known(t, &config.Starter{})
	checked := 0
	for name, svc := range p.Services {
		if svc.Build == nil {
			continue // a third-party image: its variables are its own
		}
		binary := "worker"
		if len(svc.Entrypoint) > 0 {
			binary = filepath.Base(svc.Entrypoint[0])
		}
		var allowed map[string]bool
		switch binary {
		case "worker":
			allowed = worker
		case "starter":
			allowed = starter
		case "ekmsim":
			allowed = map[string]bool{} // configured by flags
		default:
			t.Errorf("service %s runs %q, which this test does not know", name, binary)
			continue
		}
		for key := range svc.Environment {
			if !allowed[key] {
				t.Errorf("service %s (%s) sets %s, which its config does not read", name, binary, key)
			}
		}
		checked++
	}
	if checked < 4 {
		t.Fatalf("checked %d of our services, want worker, setup, starter and ekmsim", checked)
	}
}

func known(t *testing.T, cfg any) map[string]bool {
	names, err := config.VariableNames(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// Nothing in the stack has authentication: every published port is on 127.0.0.1, and
// no two services publish the same host port.
func TestEveryPortIsPublishedOnLoopbackOnly(t *testing.T) {
	p := load(t, baseEnv(), "*")
	owner := map[string]string{}
	published := 0
	for name, svc := range p.Services {
		for _, port := range svc.Ports {
			if port.HostIP != "127.0.0.1" {
				t.Errorf("service %s publishes %d on %q, want 127.0.0.1 only", name, port.Target, port.HostIP)
			}
			if port.Published == "" {
				t.Errorf("service %s publishes %d on a random host port", name, port.Target)
			}
			if other, dup := owner[port.Published]; dup {
				t.Errorf("host port %s is published by both %s and %s", port.Published, other, name)
			}
			owner[port.Published] = name
			published++
		}
	}
	for _, want := range []string{"postgres", "temporal", "temporal-ui", "worker", "ekmsim"} {
		if len(service(t, p, want).Ports) == 0 {
			t.Errorf("service %s publishes nothing", want)
		}
	}
}

// Temporal's current self-hosted layout: admin-tools sets up both databases' schemas
// once, the server (not the retired auto-setup image) starts after it with a dynamic
// config folder and a healthcheck, admin-tools creates the namespace once the server
// is healthy, and the UI and ekmsync's setup wait for them.
func TestTemporalIsSetUpTheWayTemporalDoesItNow(t *testing.T) {
	p := load(t, baseEnv())
	for name, svc := range p.Services {
		if strings.Contains(svc.Image, "auto-setup") {
			t.Errorf("service %s uses %s, which Temporal no longer builds", name, svc.Image)
		}
	}
	schema := service(t, p, "temporal-schema")
	if !strings.HasPrefix(schema.Image, "temporalio/admin-tools:") {
		t.Errorf("temporal-schema image %s, want temporalio/admin-tools", schema.Image)
	}
	if schema.DependsOn["postgres"].Condition != types.ServiceConditionHealthy {
		t.Errorf("temporal-schema does not wait for a healthy postgres")
	}
	script := mountedScript(t, schema)
	for _, want := range []string{"--db temporal create", "--db temporal_visibility create",
		"postgresql/v12/temporal/versioned", "postgresql/v12/visibility/versioned", "set -eu"} {
		if !strings.Contains(script, want) {
			t.Errorf("the schema script lacks %q", want)
		}
	}

	server := service(t, p, "temporal")
	if !strings.HasPrefix(server.Image, "temporalio/server:") {
		t.Errorf("temporal image %s, want temporalio/server", server.Image)
	}
	if server.DependsOn["temporal-schema"].Condition != types.ServiceConditionCompletedSuccessfully {
		t.Errorf("temporal does not wait for the schema setup to complete")
	}
	if server.HealthCheck == nil || len(server.HealthCheck.Test) == 0 || server.HealthCheck.Disable {
		t.Errorf("temporal has no healthcheck")
	}
	if server.Image[strings.Index(server.Image, ":"):] != schema.Image[strings.Index(schema.Image, ":"):] {
		t.Errorf("server %s and admin-tools %s are not the same release", server.Image, schema.Image)
	}
	// The dynamic config file the server is told to read is in a mounted folder, and parses.
	dc := env(server, "DYNAMIC_CONFIG_FILE_PATH")
	found := false
	for _, v := range server.Volumes {
		if target := "/etc/temporal/" + filepath.Dir(dc); v.Target == target {
			b, err := os.ReadFile(filepath.Join(v.Source, filepath.Base(dc)))
			if err != nil {
				t.Fatalf("dynamic config: %v", err)
			}
			var m map[string][]map[string]any
			if err := yaml.Unmarshal(b, &m); err != nil || len(m) == 0 {
				t.Fatalf("dynamic config %s does not parse as Temporal's format: %v", dc, err)
			}
			found = true
		}
	}
	if !found {
		t.Errorf("DYNAMIC_CONFIG_FILE_PATH %q is not in a mounted folder", dc)
	}

	ns := service(t, p, "temporal-namespace")
	if !strings.HasPrefix(ns.Image, "temporalio/admin-tools:") || ns.DependsOn["temporal"].Condition != types.ServiceConditionHealthy {
		t.Errorf("temporal-namespace: image %s, depends on %v; want admin-tools after a healthy server", ns.Image, ns.DependsOn)
	}
	if s := mountedScript(t, ns); !strings.Contains(s, "operator namespace create") || !strings.Contains(s, "operator namespace describe") {
		t.Errorf("the namespace script does not create the namespace once")
	}
	namespace := env(ns, "TEMPORAL_NAMESPACE")
	if namespace == "" || namespace == "default" {
		t.Errorf("the stack's namespace is %q: ekmsync wants one of its own", namespace)
	}
	for _, name := range []string{"setup", "worker"} {
		if got := env(service(t, p, name), "TEMPORAL_NAMESPACE"); got != namespace {
			t.Errorf("%s uses namespace %q, the stack creates %q", name, got, namespace)
		}
	}
	if service(t, p, "setup").DependsOn["temporal-namespace"].Condition != types.ServiceConditionCompletedSuccessfully {
		t.Errorf("setup does not wait for the namespace")
	}
	if service(t, p, "worker").DependsOn["setup"].Condition != types.ServiceConditionCompletedSuccessfully {
		t.Errorf("the worker does not wait for its search attributes")
	}
	if service(t, p, "temporal-ui").DependsOn["temporal"].Condition != types.ServiceConditionHealthy {
		t.Errorf("the UI does not wait for a healthy server")
	}
}

// mountedScript returns the script a one-shot service runs from a mounted folder.
func mountedScript(t *testing.T, s types.ServiceConfig) string {
	t.Helper()
	if len(s.Command) == 0 {
		t.Fatalf("service %s has no command", s.Name)
	}
	path := s.Command[len(s.Command)-1]
	for _, v := range s.Volumes {
		if rel, err := filepath.Rel(v.Target, path); err == nil && !strings.HasPrefix(rel, "..") {
			b, err := os.ReadFile(filepath.Join(v.Source, rel))
			if err != nil {
				t.Fatalf("service %s runs %s: %v", s.Name, path, err)
			}
			return string(b)
		}
	}
	t.Fatalf("service %s runs %s, which no volume mounts", s.Name, path)
	return ""
}

func TestLongRunningServicesHaveHealthchecks(t *testing.T) {
	p := load(t, baseEnv())
	for _, name := range []string{"postgres", "temporal", "worker"} {
		hc := service(t, p, name).HealthCheck
		if hc == nil || hc.Disable || len(hc.Test) == 0 {
			t.Errorf("service %s has no healthcheck", name)
		}
	}
	hc := service(t, p, "worker").HealthCheck
	if !slices.Contains(hc.Test, "--probe") || !strings.HasSuffix(hc.Test[len(hc.Test)-1], "/readyz") {
		t.Errorf("the worker's healthcheck %v does not probe its readiness endpoint", hc.Test)
	}
	w := service(t, p, "worker")
	if w.StopGracePeriod == nil {
		t.Errorf("the worker has no stop_grace_period: Docker's 10s default cuts EKMSYNC_WORKER_STOP_TIMEOUT (30s) short")
	}
}

// 'docker compose run --rm starter channel add ...' works: the starter is in a profile
// (so 'up' does not start it), runs the starter binary, and has the worker's database,
// key and Temporal settings.
func TestStarterServiceIsInAProfile(t *testing.T) {
	if _, ok := load(t, baseEnv()).Services["starter"]; ok {
		t.Errorf("the starter service starts with a plain 'docker compose up'")
	}
	p := load(t, baseEnv(), "cli")
	s, w := service(t, p, "starter"), service(t, p, "worker")
	if len(s.Profiles) == 0 {
		t.Errorf("the starter service has no profile")
	}
	if len(s.Entrypoint) == 0 || filepath.Base(s.Entrypoint[0]) != "starter" {
		t.Errorf("the starter service runs %v", s.Entrypoint)
	}
	for _, key := range []string{"EKMSYNC_DATABASE_URL", "EKMSYNC_SECRET_KEY", "EKMSYNC_PAYLOAD_KEY", "TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE"} {
		if env(s, key) != env(w, key) || env(w, key) == "" && key != "EKMSYNC_PAYLOAD_KEY" {
			t.Errorf("%s: starter %q, worker %q", key, env(s, key), env(w, key))
		}
	}
	if !strings.Contains(env(s, "EKMSYNC_DATABASE_URL"), "@postgres:5432/") {
		t.Errorf("the starter's database URL %q is not the stack's PostgreSQL", env(s, "EKMSYNC_DATABASE_URL"))
	}
}

// The UI decrypts payloads through the worker's codec server only when payloads are
// encrypted; otherwise it is given no codec endpoint at all.
func TestCodecEndpointOnlyWithPayloadEncryption(t *testing.T) {
	plain := env(service(t, load(t, baseEnv()), "temporal-ui"), "TEMPORAL_CODEC_ENDPOINT")
	if plain != "" {
		t.Errorf("without EKMSYNC_PAYLOAD_KEY the UI's codec endpoint is %q, want none", plain)
	}
	e := baseEnv()
	e["EKMSYNC_PAYLOAD_KEY"] = "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA="
	p := load(t, e)
	sealed := env(service(t, p, "temporal-ui"), "TEMPORAL_CODEC_ENDPOINT")
	if !strings.HasSuffix(sealed, "/codec") {
		t.Fatalf("with EKMSYNC_PAYLOAD_KEY the UI's codec endpoint is %q", sealed)
	}
	w := service(t, p, "worker")
	if env(w, "EKMSYNC_PAYLOAD_KEY") == "" {
		t.Errorf("the worker does not get EKMSYNC_PAYLOAD_KEY")
	}
	// The browser calls the endpoint: the worker's codec port is published there.
	codecPort := sealed[strings.LastIndex(sealed, ":")+1 : strings.LastIndex(sealed, "/")]
	target := env(w, "EKMSYNC_ADMIN_ADDR")[strings.LastIndex(env(w, "EKMSYNC_ADMIN_ADDR"), ":")+1:]
	ok := false
	for _, port := range w.Ports {
		ok = ok || port.Published == codecPort && target == strconv.FormatUint(uint64(port.Target), 10)
	}
	if !ok {
		t.Errorf("the codec endpoint %s is not the worker's published codec port (%v)", sealed, w.Ports)
	}
}

// Every image is pinned to a release (no floating or latest tag), and the Go image of
// the Dockerfile is go.mod's exact Go version.
func TestImagesArePinned(t *testing.T) {
	p := load(t, baseEnv(), "*")
	release := regexp.MustCompile(`:[0-9]+(\.[0-9]+)*$`)
	for name, svc := range p.Services {
		if svc.Build != nil {
			continue
		}
		if !release.MatchString(svc.Image) {
			t.Errorf("service %s: image %q is not pinned to a release", name, svc.Image)
		}
	}
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	goVersion := regexp.MustCompile(`(?m)^go ([0-9.]+)$`).FindSubmatch(gomod)
	dockerfile, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	from := regexp.MustCompile(`(?m)^FROM golang:(\S+)`).FindSubmatch(dockerfile)
	if goVersion == nil || from == nil || !strings.HasPrefix(string(from[1]), string(goVersion[1])) {
		t.Errorf("Dockerfile builds FROM golang:%s, go.mod wants go %s: pin the image to it", from, goVersion)
	}
}

// The image stamps VERSION into the binaries the way the Makefile does, and compose
// passes it.
func TestBuildsStampTheVersion(t *testing.T) {
	const flag = "-X github.com/ekmsync/ekmsync/internal/version.Version="
	for _, f := range []string{"Dockerfile", "Makefile"} {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), flag) {
			t.Errorf("%s does not stamp the version (%s)", f, flag)
		}
	}
	e := baseEnv()
	e["EKMSYNC_VERSION"] = "v9.9.9"
	for name, svc := range load(t, e, "*").Services {
		if svc.Build != nil && svc.Build.Args["VERSION"] == nil || svc.Build != nil && *svc.Build.Args["VERSION"] != "v9.9.9" {
			t.Errorf("service %s does not build with VERSION=$EKMSYNC_VERSION", name)
		}
	}
}
