package workflows_test

import (
	"log/slog"
	"testing"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/ekmsync/ekmsync/workflows"
)

// The committed history of a ChannelPush run (a despatch with two parcels, stock
// and price changes, push-now updates, the channel disabled and enabled again,
// recorded from the integration stack) must replay with today's code: a change
// that breaks determinism for running loops fails here, not in production.
func TestChannelPushReplaysARecordedHistory(t *testing.T) {
	r := worker.NewWorkflowReplayer()
	r.RegisterWorkflowWithOptions(workflows.ChannelPush, workflow.RegisterOptions{Name: workflows.ChannelPushWorkflow})
	logger := log.NewStructuredLogger(slog.New(slog.DiscardHandler))
	if err := r.ReplayWorkflowHistoryFromJSONFile(logger, "testdata/channel_push_history.json"); err != nil {
		t.Fatal(err)
	}
}
