package workflows

// The long-running loops (order sync, push, listing download) share one
// vocabulary for their control flow: each step says what comes next, and the
// loop acts on it in one place, instead of booleans and sentinel errors; they
// wait with awaitOrTimeout (wait.go) and bound their history with historyFull
// (bound.go).

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
