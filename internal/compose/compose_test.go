// Package compose checks docker-compose.yml without a Docker engine: the services
// built from our Dockerfile may only set variables that their binary's config knows,
// and no two services publish the same host port.
package compose

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/ekmsync/ekmsync/internal/config"
)

type composeFile struct {
	Services map[string]struct {
		Build       any               `yaml:"build"`
		Image       string            `yaml:"image"`
		Entrypoint  []string          `yaml:"entrypoint"`
		Command     []string          `yaml:"command"`
		Environment map[string]string `yaml:"environment"`
		Ports       []string          `yaml:"ports"`
	} `yaml:"services"`
}

func load(t *testing.T) composeFile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var f composeFile
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatalf("docker-compose.yml does not parse: %v", err)
	}
	if len(f.Services) == 0 {
		t.Fatal("no services")
	}
	return f
}

func known(t *testing.T, cfg any) map[string]bool {
	vars, err := config.Variables(cfg)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, v := range vars {
		out[v.Name] = true
	}
	return out
}

func TestOurServicesUseOnlyKnownVariables(t *testing.T) {
	f := load(t)
	worker, starter := known(t, &config.Worker{}), known(t, &config.Starter{})
	checked := 0
	for name, svc := range f.Services {
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
	if checked < 3 {
		t.Fatalf("checked %d of our services, want worker, setup and ekmsim", checked)
	}
}

func TestPublishedPortsDoNotClash(t *testing.T) {
	f := load(t)
	owner := map[string]string{}
	for name, svc := range f.Services {
		for _, p := range svc.Ports {
			parts := strings.Split(p, ":")
			if len(parts) < 2 {
				t.Errorf("service %s publishes %q without a host port", name, p)
				continue
			}
			host := parts[len(parts)-2]
			if other, dup := owner[host]; dup {
				t.Errorf("host port %s is published by both %s and %s", host, other, name)
			}
			owner[host] = name
		}
	}
}
