package service

import (
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/ekmsync/ekmsync/activities"
	"github.com/ekmsync/ekmsync/workflows"
)

// Register registers every ekmsync workflow, under the type names the starters
// use, and the activities (the methods of activities.Activities, under their
// method names) on w. The tests' in-process workers and the worker binary share
// it, so they cannot drift apart.
func Register(w worker.Registry, acts *activities.Activities) {
	w.RegisterActivity(acts)
	for _, r := range []struct {
		fn   any
		name string
	}{
		{workflows.ListingDownload, workflows.ListingDownloadWorkflow},
		{workflows.ScheduledListingDownload, workflows.ScheduledListingDownloadWorkflow},
		{workflows.OrderSync, workflows.OrderSyncWorkflow},
		{workflows.OrderBackfill, workflows.OrderBackfillWorkflow},
		{workflows.ChannelPush, workflows.ChannelPushWorkflow},
	} {
		w.RegisterWorkflowWithOptions(r.fn, workflow.RegisterOptions{Name: r.name})
	}
}
