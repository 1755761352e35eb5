package workflows

import "go.temporal.io/sdk/workflow"

// Every long-running loop keeps its run's history bounded on its own, whatever
// its signals carry: it continues as new when the server suggests it, and also
// when the history reaches these bounds, well below the server's hard limits
// (51,200 events, 50 MB), at which Temporal terminates a run. The server's
// suggestion can be turned off or come late; these cannot.
const (
	// maxRunEvents is a run's own bound on history events.
	maxRunEvents = 10_000
	// maxRunHistoryBytes is a run's own bound on history bytes.
	maxRunHistoryBytes = 10 << 20
)

// historyFull reports whether the run should continue as new: the server
// suggests it, or the history reached the loop's own bound of events or bytes.
func historyFull(ctx workflow.Context) bool {
	info := workflow.GetInfo(ctx)
	return info.GetContinueAsNewSuggested() || info.GetCurrentHistoryLength() >= maxRunEvents ||
		info.GetCurrentHistorySize() >= maxRunHistoryBytes
}

// historyNearLimit reports whether the history reached twice the loop's own
// bound, still well below Temporal's limits: a loop that gets there while an
// activity runs (a flood of signals during a long sync) stops that activity to
// continue as new, rather than wait for it and be terminated.
func historyNearLimit(ctx workflow.Context) bool {
	info := workflow.GetInfo(ctx)
	return info.GetCurrentHistoryLength() >= 2*maxRunEvents || info.GetCurrentHistorySize() >= 2*maxRunHistoryBytes
}
