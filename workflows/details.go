package workflows

import "go.temporal.io/sdk/workflow"

// setDetails sets the run's current details: the Markdown the Web UI's User
// Metadata tab shows (rendered by internal/present from the loop's state).
func setDetails(ctx workflow.Context, markdown string) { workflow.SetCurrentDetails(ctx, markdown) }
