package workflows_test

import (
	"log/slog"
	"path/filepath"
	"testing"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/ekmsync/ekmsync/workflows"
)

// Every workflow type replays the longest history a hostile chaos run recorded of
// it (worker kills, a PostgreSQL restart, injected faults, webhook floods and
// poison orders; 'go run ./internal/cmd/chaos -reduced -hostile -histories
// workflows/testdata/chaos' records them anew): a change to a workflow's code that
// would break the runs such a day leaves behind fails here.
func TestWorkflowsReplayHistoriesOfAChaosRun(t *testing.T) {
	files, err := filepath.Glob("testdata/chaos/*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 3 {
		t.Fatalf("testdata/chaos holds %d histories, want the order sync's, the push's and the listing download's: %v", len(files), files)
	}
	r := worker.NewWorkflowReplayer()
	for name, fn := range map[string]any{
		workflows.ListingDownloadWorkflow:          workflows.ListingDownload,
		workflows.ScheduledListingDownloadWorkflow: workflows.ScheduledListingDownload,
		workflows.OrderSyncWorkflow:                workflows.OrderSync,
		workflows.OrderBackfillWorkflow:            workflows.OrderBackfill,
		workflows.ChannelPushWorkflow:              workflows.ChannelPush,
	} {
		r.RegisterWorkflowWithOptions(fn, workflow.RegisterOptions{Name: name})
	}
	logger := log.NewStructuredLogger(slog.New(slog.DiscardHandler))
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			if err := r.ReplayWorkflowHistoryFromJSONFile(logger, f); err != nil {
				t.Fatal(err)
			}
		})
	}
}
