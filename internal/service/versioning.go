package service

import (
	"sync"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/ekmsync/ekmsync/activities"
	"github.com/ekmsync/ekmsync/internal/config"
	"github.com/ekmsync/ekmsync/internal/observe"
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

// maxPollers bounds each queue's pollers (each an open long-poll RPC).
const maxPollers = 20

// workerOptions are the SDK worker's options: the stop timeout, and with a
// deployment name, the deployment version (the stamped version as build ID).
func workerOptions(cfg config.Worker) worker.Options {
	o := worker.Options{WorkerStopTimeout: cfg.StopTimeout.D(),
		// Activities are told at once when the worker stops, so a stop takes seconds.
		Interceptors: []interceptor.WorkerInterceptor{&activities.StopInterceptor{}},
		// The SDK's default of two pollers per queue, shared by the sticky and the
		// normal workflow queue, dispatched 500 channels' workflow tasks seconds late
		// (the many-shops benchmark: a push woken by a listing page waited 3 s on
		// average, a listing download's next slice 7 s, and half the channels'
		// order syncs had not started 3 minutes after they were started). Pollers
		// that scale with the traffic, from the server's hints and their own empty
		// polls, keep an idle worker at one or two polls and a busy one at tens.
		WorkflowTaskPollerBehavior: worker.NewPollerBehaviorAutoscaling(worker.PollerBehaviorAutoscalingOptions{MaximumNumberOfPollers: maxPollers}),
		ActivityTaskPollerBehavior: worker.NewPollerBehaviorAutoscaling(worker.PollerBehaviorAutoscalingOptions{MaximumNumberOfPollers: maxPollers}),
	}
	if cfg.DeploymentName != "" {
		o.DeploymentOptions = worker.DeploymentOptions{
			UseVersioning: true,
			Version:       worker.WorkerDeploymentVersion{DeploymentName: cfg.DeploymentName, BuildID: version.String()},
		}
	}
	return o
}

// newWorkers makes the process's two SDK workers: the main one, on
// cfg.TaskQueue, for every workflow and every activity, which routes the
// listing download's activities to the listing queue; and the listing one, on
// that queue, for activities only, at most listingSlots(cfg) at a time.
func newWorkers(tc client.Client, cfg config.Worker) (main, listings worker.Worker) {
	o := workerOptions(cfg)
	o.Interceptors = append(o.Interceptors, &observe.Interceptor{}, &listingRouter{queue: ListingQueue(cfg.TaskQueue)})
	main = worker.New(tc, cfg.TaskQueue, o)
	lo := workerOptions(cfg)
	lo.Interceptors = append(lo.Interceptors, &observe.Interceptor{})
	lo.DisableWorkflowWorker = true
	lo.MaxConcurrentActivityExecutionSize = listingSlots(cfg)
	return main, worker.New(tc, ListingQueue(cfg.TaskQueue), lo)
}

// listingSlots is EKMSYNC_LISTING_SLOTS, or its default when a config built in
// code leaves it zero.
func listingSlots(cfg config.Worker) int {
	if cfg.ListingSlots <= 0 {
		return defaultListingSlots
	}
	return cfg.ListingSlots
}

// stopWorkers stops the SDK workers together: each Stop waits for its own
// activities (told at once to stop) for up to the stop timeout.
func stopWorkers(ws ...worker.Worker) {
	var wg sync.WaitGroup
	for _, w := range ws {
		wg.Go(w.Stop)
	}
	wg.Wait()
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
