package workflows

import (
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/ekmsync/ekmsync/internal/contract"
)

// ScheduledListingResult says which listing download the Schedule's run found or started.
type ScheduledListingResult struct {
	WorkflowID string `json:"workflow_id"`
	RunID      string `json:"run_id,omitempty"`
	// AlreadyRunning says a download of the channel was running: it goes on,
	// and no second one starts.
	AlreadyRunning bool `json:"already_running"`
}

// ScheduledListingDownload is what the channel's listing Schedule runs every
// listing interval: it starts the channel's ListingDownload (listing-download:<channel>)
// as a child that outlives it (ParentClosePolicy ABANDON), so that the download
// has the same ID whether an operator or the Schedule asked for it. A download
// that already runs is success: it is the one the Schedule wanted.
func ScheduledListingDownload(ctx workflow.Context, in ChannelInput) (ScheduledListingResult, error) {
	if in.Channel == "" {
		return ScheduledListingResult{}, temporal.NewNonRetryableApplicationError(
			"ScheduledListingDownload needs the channel's name in its input, e.g. {\"channel\": \"shop\"}", contract.ErrTypeBadInput, nil)
	}
	id := ListingDownloadID(in.Channel)
	ctx = workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:            id,
		ParentClosePolicy:     enums.PARENT_CLOSE_POLICY_ABANDON,
		WorkflowIDReusePolicy: enums.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		TypedSearchAttributes: InitialAttributes(in.Channel),
		StaticSummary:         "Listing download of channel " + in.Channel + " (scheduled)",
	})
	var started workflow.Execution
	err := workflow.ExecuteChildWorkflow(ctx, ListingDownloadWorkflow, ChannelInput{Channel: in.Channel}).
		GetChildWorkflowExecution().Get(ctx, &started)
	if temporal.IsWorkflowExecutionAlreadyStartedError(err) {
		workflow.GetLogger(ctx).Info("listing download already running", "workflow_id", id)
		return ScheduledListingResult{WorkflowID: id, AlreadyRunning: true}, nil
	}
	if err != nil {
		return ScheduledListingResult{}, err
	}
	return ScheduledListingResult{WorkflowID: started.ID, RunID: started.RunID}, nil
}
