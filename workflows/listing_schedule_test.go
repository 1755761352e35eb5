package workflows

import (
	"testing"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/workflow"

	"github.com/ekmsync/ekmsync/internal/contract"
)

func TestScheduledListingDownloadStartsTheChannelsDownloadAsAChild(t *testing.T) {
	env := listingEnv(t)
	env.RegisterWorkflowWithOptions(ScheduledListingDownload, workflow.RegisterOptions{Name: ScheduledListingDownloadWorkflow})
	var childID string
	env.OnWorkflow(ListingDownloadWorkflow, mock.Anything, contract.ListingProgress{Channel: "shop"}).
		Run(func(args mock.Arguments) {
			childID = workflow.GetInfo(args.Get(0).(workflow.Context)).WorkflowExecution.ID
		}).
		Return(contract.ListingProgress{}, nil).Once()
	env.ExecuteWorkflow(ScheduledListingDownloadWorkflow, ChannelInput{Channel: "shop"})
	var res ScheduledListingResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if res.WorkflowID != "listing-download:shop" || res.AlreadyRunning {
		t.Fatalf("result = %+v", res)
	}
	if childID != "listing-download:shop" {
		t.Fatalf("child ran as %q", childID)
	}
}
