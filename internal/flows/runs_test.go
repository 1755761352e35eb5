package flows

import (
	"testing"
	"time"
)

// A closed run says so, with why and when, never as waiting; and only an abnormal
// close counts as a death the supervisor repairs.
func TestRunStateSaysAClosedRunIsClosedWithItsReason(t *testing.T) {
	at := time.Date(2026, 12, 3, 14, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		r    RunState
		want string
		died bool
	}{
		{RunState{Running: true, Status: "Running"}, "running", false},
		{RunState{Status: StatusNotStarted}, "not started", false},
		{RunState{Status: "Terminated", Reason: "Workflow history size exceeds limit", ClosedAt: &at},
			"closed: terminated at 2026-12-03 14:00:00 UTC (Workflow history size exceeds limit)", true},
		{RunState{Status: "Failed", Reason: "boom"}, "closed: failed (boom)", true},
		{RunState{Status: "TimedOut", Reason: "the run's timeout passed"}, "closed: timed out (the run's timeout passed)", true},
		{RunState{Status: "Canceled"}, "closed: cancelled", false},
		{RunState{Status: "Completed"}, "closed: completed", false},
	} {
		if got := c.r.Sentence(); got != c.want {
			t.Errorf("%+v says %q, want %q", c.r, got, c.want)
		}
		if c.r.Died() != c.died {
			t.Errorf("%+v died = %v, want %v", c.r, c.r.Died(), c.died)
		}
	}
}
