package service

import (
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/ekmsync/ekmsync/workflows"
)

// registerListing registers the listing download's workflows under the type names
// the starters use.
func registerListing(w worker.Registry) {
	w.RegisterWorkflowWithOptions(workflows.ListingDownload, workflow.RegisterOptions{Name: workflows.ListingDownloadWorkflow})
	w.RegisterWorkflowWithOptions(workflows.ScheduledListingDownload, workflow.RegisterOptions{Name: workflows.ScheduledListingDownloadWorkflow})
}
