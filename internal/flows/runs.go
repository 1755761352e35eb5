package flows

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
)

// Run states of the channel's workflows, as Temporal reports them: what 'channel
// show', 'orders status' and 'push status' say of a loop, and what the worker's
// supervisor acts on. A query answers even for a closed run (from its last
// state), so a closed loop would still say "waiting, next run ..."; these ask
// Temporal whether the run is running, and why it closed.

// RunState is the state of a workflow's latest run.
type RunState struct {
	WorkflowID string `json:"workflow_id"`
	RunID      string `json:"run_id,omitempty"`
	// Running is true while the latest run runs.
	Running bool `json:"running"`
	// Status is Temporal's: Running, Completed, Failed, Terminated, TimedOut,
	// Canceled, ContinuedAsNew; or NotStarted when there is no run at all.
	Status string `json:"status"`
	// Reason says why a closed run closed: the termination's reason, the
	// failure's message, the timeout.
	Reason   string     `json:"reason,omitempty"`
	ClosedAt *time.Time `json:"closed_at,omitempty"`
}

// StatusNotStarted is the Status of a workflow that never ran.
const StatusNotStarted = "NotStarted"

// Died reports whether the run closed abnormally (terminated, failed or timed
// out): a loop in that state is started again by the worker's supervisor.
func (r RunState) Died() bool {
	switch r.Status {
	case "Terminated", "Failed", "TimedOut":
		return true
	}
	return false
}

// Sentence says in words whether the workflow runs, and if not, why.
func (r RunState) Sentence() string {
	switch {
	case r.Running:
		return "running"
	case r.Status == StatusNotStarted:
		return "not started"
	}
	s := "closed: " + closedWord(r.Status)
	if r.ClosedAt != nil {
		s += " at " + r.ClosedAt.UTC().Format(time.DateTime) + " UTC"
	}
	if r.Reason != "" {
		s += " (" + r.Reason + ")"
	}
	return s
}

func closedWord(status string) string {
	switch status {
	case "TimedOut":
		return "timed out"
	case "ContinuedAsNew":
		return "continued as new"
	case "Canceled":
		return "cancelled"
	}
	return strings.ToLower(status)
}

// RunState asks Temporal for the state of the workflow's latest run, with the
// reason a closed run closed.
func (s Starter) RunState(ctx context.Context, id string) (RunState, error) {
	st := RunState{WorkflowID: id}
	desc, err := s.Client.DescribeWorkflowExecution(ctx, id, "")
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		st.Status = StatusNotStarted
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("ask Temporal about %s: %w", id, err)
	}
	info := desc.GetWorkflowExecutionInfo()
	st.RunID = info.GetExecution().GetRunId()
	st.Status = statusName(info.GetStatus())
	st.Running = info.GetStatus() == enums.WORKFLOW_EXECUTION_STATUS_RUNNING
	if st.Running {
		return st, nil
	}
	if t := info.GetCloseTime(); t != nil {
		at := t.AsTime()
		st.ClosedAt = &at
	}
	it := s.Client.GetWorkflowHistory(ctx, id, st.RunID, false, enums.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return st, nil // the status says enough; the reason is a bonus
		}
		st.Reason = closeReason(ev)
	}
	return st, nil
}

// statusName is Temporal's name of a status, as the Web UI and CLI show it.
func statusName(s enums.WorkflowExecutionStatus) string {
	switch s {
	case enums.WORKFLOW_EXECUTION_STATUS_RUNNING:
		return "Running"
	case enums.WORKFLOW_EXECUTION_STATUS_COMPLETED:
		return "Completed"
	case enums.WORKFLOW_EXECUTION_STATUS_FAILED:
		return "Failed"
	case enums.WORKFLOW_EXECUTION_STATUS_CANCELED:
		return "Canceled"
	case enums.WORKFLOW_EXECUTION_STATUS_TERMINATED:
		return "Terminated"
	case enums.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW:
		return "ContinuedAsNew"
	case enums.WORKFLOW_EXECUTION_STATUS_TIMED_OUT:
		return "TimedOut"
	}
	return s.String()
}

// closeReason is why a run closed, from its close event.
func closeReason(ev *historypb.HistoryEvent) string {
	if a := ev.GetWorkflowExecutionTerminatedEventAttributes(); a != nil {
		r := a.GetReason()
		if r == "" {
			r = "no reason given"
		}
		if id := a.GetIdentity(); id != "" {
			r += ", by " + id
		}
		return r
	}
	if a := ev.GetWorkflowExecutionFailedEventAttributes(); a != nil {
		return a.GetFailure().GetMessage()
	}
	if ev.GetWorkflowExecutionTimedOutEventAttributes() != nil {
		return "the run's timeout passed"
	}
	return ""
}

// RunningIDs lists the IDs of the workflows running on the task queue, from
// Temporal's visibility store: one paged call where asking about each workflow
// would be one call per workflow. Visibility lags a little behind the runs, so
// a caller about to act on a workflow missing from the list asks RunState first.
func (s Starter) RunningIDs(ctx context.Context) (map[string]bool, error) {
	ids := map[string]bool{}
	query := fmt.Sprintf("ExecutionStatus = 'Running' AND TaskQueue = '%s'", strings.ReplaceAll(s.taskQueue(), "'", ""))
	var token []byte
	for {
		resp, err := s.Client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: query, NextPageToken: token})
		if err != nil {
			return nil, fmt.Errorf("list the running workflows: %w", err)
		}
		for _, e := range resp.GetExecutions() {
			ids[e.GetExecution().GetWorkflowId()] = true
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			return ids, nil
		}
	}
}

// ScheduleIDs lists the IDs of the namespace's Schedules (one paged call).
func (s Starter) ScheduleIDs(ctx context.Context) (map[string]bool, error) {
	it, err := s.Client.ScheduleClient().List(ctx, client.ScheduleListOptions{PageSize: 1000})
	if err != nil {
		return nil, fmt.Errorf("list the schedules: %w", err)
	}
	ids := map[string]bool{}
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			return nil, fmt.Errorf("list the schedules: %w", err)
		}
		ids[e.ID] = true
	}
	return ids, nil
}
