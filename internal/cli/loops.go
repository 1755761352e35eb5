package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ekmsync/ekmsync/internal/flows"
	"github.com/ekmsync/ekmsync/workflows"
)

// The loops' run states as the commands report them ('channel show', 'orders
// status', 'push status'), what a command that gave up waiting was waiting for
// (--timeout), and starting the loops again from 'channel enable'.

// loopRuns is the state of each of a channel's workflows, for 'channel show'.
type loopRuns struct {
	OrderSync       loopRun `json:"order_sync"`
	Push            loopRun `json:"push"`
	ListingDownload loopRun `json:"listing_download"`
}

// loopRun is one workflow's latest run, and, when a loop is not running, what
// happens next and what an operator can do.
type loopRun struct {
	flows.RunState
	Note string `json:"note,omitempty"`
}

// queryWait bounds a loop's status query: a running loop that no worker serves
// never answers.
const queryWait = 10 * time.Second

// superviseWithin is the worker supervisor's period, as an operator reads it.
const superviseWithin = "30 seconds"

// notRunningNote says what happens to a loop that does not run, and what to do.
func notRunningNote(name string) string {
	return "the worker starts it again within " + superviseWithin + " and logs it; if it stays so, check that a worker runs " +
		"(its log says why the loop stopped), or start it now with 'starter channel enable " + name + "'"
}

// loopRunOf reads the latest run of one loop; a loop that should always run gets
// a note when it does not.
func loopRunOf(ctx context.Context, w flows.Starter, id, name string, always bool) (loopRun, error) {
	r, err := w.RunState(ctx, id)
	if err != nil {
		return loopRun{}, err
	}
	lr := loopRun{RunState: r}
	if always && !r.Running {
		lr.Note = notRunningNote(name)
	}
	return lr, nil
}

// channelLoops reads the run states of the channel's loops and its listing
// download; it returns why they could not be read instead of failing the command.
func (e *env) channelLoops(ctx context.Context, name string) (*loopRuns, string) {
	w, err := e.workflows(ctx)
	if err != nil {
		return nil, "the loops' state is unknown: " + err.Error()
	}
	var res loopRuns
	for _, l := range []struct {
		into   *loopRun
		id     string
		always bool
	}{
		{&res.OrderSync, workflows.OrderSyncID(name), true},
		{&res.Push, workflows.ChannelPushID(name), true},
		{&res.ListingDownload, workflows.ListingDownloadID(name), false},
	} {
		if *l.into, err = loopRunOf(ctx, w, l.id, name, l.always); err != nil {
			return nil, "the loops' state is unknown: " + err.Error()
		}
	}
	return &res, ""
}

// runLine is a loop's run state in one line of text.
func (r loopRun) runLine() string {
	s := r.Sentence()
	if r.Note != "" {
		s += ": " + r.Note
	}
	return s
}

// ensureLoops starts the channel's loops if they do not run, for 'channel enable'
// of a channel already enabled; a failure is a note, not the command's error.
func (e *env) ensureLoops(ctx context.Context, name string) {
	_, s, err := channelOf(ctx, e, name)
	if err == nil {
		_, err = e.ensureFlows(ctx, s)
	}
	if err != nil {
		fmt.Fprintf(e.io.Stderr, "note: could not start the channel's workflows: %v\n", err)
	}
}

// waitingFor explains, after a command gave up waiting for a workflow, what the
// workflow was waiting for: a loop that does not run, an activity's retries (with
// the last failure), or an activity still at work, which waits for EKM's answers
// or the shop's rate budget. extra adds what the workflow's own status says (a
// refusal, the budget). It asks Temporal afresh, since the command's own
// context has ended.
func (e *env) waitingFor(ctx context.Context, w flows.Starter, id, name string, always bool, extra func(context.Context) []string) string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	run, err := loopRunOf(ctx, w, id, name, always)
	if err != nil {
		return "Temporal could not say: " + err.Error()
	}
	if !run.Running {
		s := "the workflow is not running: " + run.Sentence()
		if run.Note != "" {
			s += "; " + run.Note
		}
		return s
	}
	reasons := extra(ctx)
	desc, err := w.Client.DescribeWorkflowExecution(ctx, id, "")
	if err != nil {
		return strings.Join(append(reasons, "Temporal could not say more: "+err.Error()), "; ")
	}
	for _, pa := range desc.GetPendingActivities() {
		what := pa.GetActivityType().GetName()
		switch {
		case pa.GetAttempt() > 1:
			s := fmt.Sprintf("retries: %s is on attempt %d", what, pa.GetAttempt())
			if n := pa.GetMaximumAttempts(); n > 0 {
				s += fmt.Sprintf(" of %d", n)
			}
			if f := pa.GetLastFailure(); f != nil {
				s += ", the last failed with: " + f.GetMessage()
			}
			reasons = append(reasons, s)
		default:
			s := what + " is at work"
			if t := pa.GetLastHeartbeatTime(); t != nil {
				s += fmt.Sprintf(" (last progress %s UTC)", t.AsTime().UTC().Format(time.TimeOnly))
			}
			reasons = append(reasons, s+": it waits for EKM's answers or for the shop's rate budget, shared with the channel's other work")
		}
	}
	if len(reasons) == 0 {
		reasons = append(reasons, "the workflow was between steps (it serves one request at a time)")
	}
	return strings.TrimSuffix(strings.Join(reasons, "; "), ".")
}

// errGaveUp is the cause of a wait that a command's --timeout ended.
var errGaveUp = errors.New("gave up waiting")

// giveUpAfter returns a context that a timer cancels after d with errGaveUp: a
// cancellation rather than a deadline, so that a long poll the server ends just
// before the deadline still reads as the command giving up (see gaveUp).
func giveUpAfter(ctx context.Context, d time.Duration) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	t := time.AfterFunc(d, func() { cancel(errGaveUp) })
	return ctx, func() { t.Stop(); cancel(nil) }
}

// gaveUp reports whether ctx was ended by giveUpAfter's timer.
func gaveUp(ctx context.Context) bool { return errors.Is(context.Cause(ctx), errGaveUp) }
