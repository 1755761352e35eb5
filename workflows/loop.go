package workflows

import "go.temporal.io/sdk/workflow"

// The long-running loops (order sync, push, listing download) share one
// skeleton. Each keeps its state in one struct of internal/contract
// (OrderSyncState, PushState, ListingProgress): the run starts from it, its
// query answers it, and it continues as new with it, so nothing is unpacked
// into fields and packed again. Each step says what comes next, and the loop
// acts on it in one place, instead of booleans and sentinel errors; they wait
// with awaitOrTimeout (wait.go), serve "run now" Updates with runNow, bound
// their history with historyFull (bound.go), and continue as new at one safe
// point, once every Update handler has finished. What a loop shows (the Web
// UI's details, search attributes) it sets from its state in one publish step.

// loopNext is what a step tells its loop to do next.
type loopNext int

const (
	// nextGoOn: go on with the loop.
	nextGoOn loopNext = iota
	// nextEnd: the run ends (the channel was removed, or the work is done and
	// its outcome said).
	nextEnd
	// nextContinueAsNew: the history is full; a new run takes the state on.
	nextContinueAsNew
)

// runNow serves a loop's "run now" Update (sync-now, push-now): each request
// waits for the answer of a run that started after it, so that it never runs
// beside the loop's own work. The loop notes, as a run starts, which requests
// it serves (upTo) and answers them when it ends.
type runNow[In, Out any] struct {
	pending []runNowRequest[In] // asked, not yet answered, oldest first
	asked   int                 // the requests so far; a request's seq is its number
	answers map[int]runNowAnswer[Out]
}

type runNowRequest[In any] struct {
	seq int
	in  In
}

type runNowAnswer[Out any] struct {
	out Out
	err error
}

// ask is the Update's handler body: it queues the request and waits for its answer.
func (r *runNow[In, Out]) ask(ctx workflow.Context, in In) (Out, error) {
	r.asked++
	seq := r.asked
	r.pending = append(r.pending, runNowRequest[In]{seq: seq, in: in})
	if err := workflow.Await(ctx, func() bool { _, ok := r.answers[seq]; return ok }); err != nil {
		var zero Out
		return zero, err
	}
	a := r.answers[seq]
	delete(r.answers, seq)
	return a.out, a.err
}

// waiting reports whether a request waits for an answer.
func (r *runNow[In, Out]) waiting() bool { return len(r.pending) > 0 }

// upTo is what a run that starts now serves: the requests asked so far.
func (r *runNow[In, Out]) upTo() int { return r.asked }

// answer answers the waiting requests up to upTo with out and err.
func (r *runNow[In, Out]) answer(upTo int, out Out, err error) {
	if r.answers == nil {
		r.answers = map[int]runNowAnswer[Out]{}
	}
	kept := r.pending[:0]
	for _, p := range r.pending {
		if p.seq <= upTo {
			r.answers[p.seq] = runNowAnswer[Out]{out: out, err: err}
		} else {
			kept = append(kept, p)
		}
	}
	r.pending = kept
}
