package service

import (
	"testing"

	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/ekmsync/ekmsync/activities"
	"github.com/ekmsync/ekmsync/internal/config"
)

// captureRegistry records the workflow registrations Register makes.
type captureRegistry struct {
	worker.Registry
	got map[string]workflow.VersioningBehavior
}

func (c *captureRegistry) RegisterWorkflowWithOptions(_ any, o workflow.RegisterOptions) {
	c.got[o.Name] = o.VersioningBehavior
}

func (c *captureRegistry) RegisterActivity(any) {}

// With a deployment name, every workflow type the worker registers declares its
// Worker Versioning behaviour (a versioned worker without one would fail its tasks);
// without, none does.
func TestEveryWorkflowTypeDeclaresItsVersioningBehaviour(t *testing.T) {
	versionedCfg := config.Worker{DeploymentName: "ekmsync"}
	c := &captureRegistry{got: map[string]workflow.VersioningBehavior{}}
	Register(versioned(c, versionedCfg), &activities.Activities{})
	if len(c.got) == 0 {
		t.Fatal("nothing registered")
	}
	for name, b := range c.got {
		if b == workflow.VersioningBehaviorUnspecified {
			t.Errorf("workflow type %s has no versioning behaviour: add it to behaviours", name)
		}
	}
	if o := workerOptions(versionedCfg); !o.DeploymentOptions.UseVersioning || o.DeploymentOptions.Version.DeploymentName != "ekmsync" ||
		o.DeploymentOptions.Version.BuildID == "" {
		t.Errorf("deployment options %+v", o.DeploymentOptions)
	}

	plain := &captureRegistry{got: map[string]workflow.VersioningBehavior{}}
	Register(versioned(plain, config.Worker{}), &activities.Activities{})
	for name, b := range plain.got {
		if b != workflow.VersioningBehaviorUnspecified {
			t.Errorf("unversioned worker: %s registered with behaviour %v", name, b)
		}
	}
	if workerOptions(config.Worker{}).DeploymentOptions.UseVersioning {
		t.Errorf("versioning on without a deployment name")
	}
}
