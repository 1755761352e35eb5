package service

import (
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/ekmsync/ekmsync/workflows"
)

// registerPush registers the outbound push's workflow under the name starters use.
// Its activities are methods of activities.Activities, registered with the rest.
func registerPush(w worker.Registry) {
	w.RegisterWorkflowWithOptions(workflows.ChannelPush, workflow.RegisterOptions{Name: workflows.ChannelPushWorkflow})
}
