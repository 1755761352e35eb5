package workflows_test

import (
	"log/slog"
	"testing"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/ekmsync/ekmsync/workflows"
)

// The order sync replays a history recorded from a real run (a sync-now Update, a
// webhook hint, a disable and an enable, another Update): a change to the
// workflow's code that would break running loops fails here.
func TestOrderSyncReplaysARecordedHistory(t *testing.T) {
	r := worker.NewWorkflowReplayer()
	r.RegisterWorkflowWithOptions(workflows.OrderSync, workflow.RegisterOptions{Name: workflows.OrderSyncWorkflow})
	logger := log.NewStructuredLogger(slog.New(slog.DiscardHandler))
	if err := r.ReplayWorkflowHistoryFromJSONFile(logger, "testdata/order_sync_history.json"); err != nil {
		t.Fatal(err)
	}
}
