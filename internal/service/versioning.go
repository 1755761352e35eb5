package service

import (
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/ekmsync/ekmsync/activities"
	"github.com/ekmsync/ekmsync/internal/config"
	"github.com/ekmsync/ekmsync/internal/version"
	"github.com/ekmsync/ekmsync/workflows"
)

// behaviours declares each workflow type's Worker Versioning behaviour, used when the
// worker joins a Worker Deployment (EKMSYNC_DEPLOYMENT_NAME):
//
//   - The loops run for ever: they auto-upgrade, moving to the deployment's current
//     version at their next workflow task, so a release reaches them without
//     restarting them. The new code must replay their histories, which the replay
//     tests of workflows/ check.
//   - A listing download, a scheduled listing download and a back-fill are bounded
//     runs: they stay pinned to the build that started them and finish on it, so
//     their code may change freely between releases; the old build keeps polling
//     (draining) until they are done.
var behaviours = map[string]workflow.VersioningBehavior{
	workflows.OrderSyncWorkflow:                workflow.VersioningBehaviorAutoUpgrade,
	workflows.ChannelPushWorkflow:              workflow.VersioningBehaviorAutoUpgrade,
	workflows.ListingDownloadWorkflow:          workflow.VersioningBehaviorPinned,
	workflows.ScheduledListingDownloadWorkflow: workflow.VersioningBehaviorPinned,
	workflows.OrderBackfillWorkflow:            workflow.VersioningBehaviorPinned,
}

// workerOptions are the SDK worker's options: the stop timeout, and with a
// deployment name, the deployment version (the stamped version as build ID).
func workerOptions(cfg config.Worker) worker.Options {
	o := worker.Options{WorkerStopTimeout: cfg.StopTimeout.D(),
		// Activities are told at once when the worker stops, so a stop takes seconds.
		Interceptors: []interceptor.WorkerInterceptor{&activities.StopInterceptor{}}}
	if cfg.DeploymentName != "" {
		o.DeploymentOptions = worker.DeploymentOptions{
			UseVersioning: true,
			Version:       worker.WorkerDeploymentVersion{DeploymentName: cfg.DeploymentName, BuildID: version.String()},
		}
	}
	return o
}

// versioned returns w, and with a deployment name a registry that gives every
// workflow type its behaviour from behaviours as it is registered.
func versioned(w worker.Registry, cfg config.Worker) worker.Registry {
	if cfg.DeploymentName == "" {
		return w
	}
	return versionedRegistry{w}
}

type versionedRegistry struct{ worker.Registry }

func (r versionedRegistry) RegisterWorkflowWithOptions(w any, o workflow.RegisterOptions) {
	o.VersioningBehavior = behaviours[o.Name]
	r.Registry.RegisterWorkflowWithOptions(w, o)
}
