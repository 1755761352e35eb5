package service

import (
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/ekmsync/ekmsync/workflows"
)

// registerOrders registers the order sync's workflows under the type names the
// starter uses.
func registerOrders(w worker.Registry) {
	w.RegisterWorkflowWithOptions(workflows.OrderSync, workflow.RegisterOptions{Name: workflows.OrderSyncWorkflow})
	w.RegisterWorkflowWithOptions(workflows.OrderBackfill, workflow.RegisterOptions{Name: workflows.OrderBackfillWorkflow})
}
