package workflows

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/contract"
)

// Timing of the listing download.
const (
	// listingPoll is how often a download waiting for reauthorisation re-reads the
	// channel, besides waking at once on the wake signal.
	listingPoll = 15 * time.Second
	// listingHistoryLimit is the history length at which a run continues as new,
	// so that a run's history stays bounded whatever the catalogue's size.
	listingHistoryLimit = 1000
	// listingHeartbeat is the page activity's heartbeat timeout: how soon a killed
	// worker's slice is retried elsewhere.
	listingHeartbeat = 10 * time.Second
)

// ListingDownload downloads every product and variant of a channel's shop into the
// hub's listings (docs/channel-semantics.md §5): one generation, page by page in slices
// of a few seconds, so that the progress query, the search attributes and the
// current details follow it, and the history stays bounded (continue-as-new). A
// disabled channel ends the run at once with the reason; one that needs
// reauthorisation waits for the wake signal (or polls); a channel disabled
// mid-run stops it, and nothing is marked removed. The run never fails for the
// channel's state: the outcome is in the result.
func ListingDownload(ctx workflow.Context, in ListingDownloadInput) (ListingDownloadResult, error) {
	if strings.TrimSpace(in.Channel) == "" {
		return ListingDownloadResult{}, temporal.NewNonRetryableApplicationError(
			"ListingDownload needs the channel's name in its input, e.g. {\"channel\": \"shop\"}", contract.ErrTypeBadInput, nil)
	}
	w := &listingDownload{in: in, runs: 1}
	if err := w.setup(ctx); err != nil {
		return ListingDownloadResult{}, err
	}
	return w.run(ctx)
}

// listingDownload is one run of ListingDownload.
type listingDownload struct {
	in       ListingDownloadInput
	progress ListingProgress
	gen      int64
	perPage  time.Duration
	runs     int
	slices   int  // slices in this run
	woken    bool // a wake signal came: re-read the channel (set by a goroutine of setup)
	shown    listingShown
}

// listingSlicesPerRun is how many slices one run does before it continues as new
// (about 8 history events each): the same bound as listingHistoryLimit, counted
// by the run itself. A variable so that tests can lower it.
var listingSlicesPerRun = 120

func (w *listingDownload) setup(ctx workflow.Context) error {
	w.progress = ListingProgress{Channel: w.in.Channel, Phase: ListingStarting, Message: "Checking the channel."}
	if r := w.in.Resume; r != nil {
		w.gen, w.perPage, w.runs, w.progress = r.Generation, r.PerPage, r.Runs+1, r.Progress
	}
	wake := workflow.GetSignalChannel(ctx, SignalWake)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			wake.Receive(ctx, nil)
			w.woken = true
		}
	})
	return workflow.SetQueryHandlerWithOptions(ctx, QueryProgress, func() (ListingProgress, error) { return w.progress, nil },
		workflow.QueryHandlerOptions{Description: "the listing download's progress: pages, products, listings, SKU problems, estimated completion"})
}

// run is the download: begin (or resume) a generation, fetch its pages slice by
// slice, finish it; each step says what comes next.
func (w *listingDownload) run(ctx workflow.Context) (ListingDownloadResult, error) {
	next, err := nextGoOn, error(nil)
	if w.in.Resume == nil {
		next, err = w.begin(ctx)
	} else {
		w.say(ctx, ListingDownloading, "Resuming the download at page "+fmt.Sprint(w.progress.PagesDone+1)+".")
	}
	for next == nextGoOn && !w.progress.AllPagesDone() {
		if w.shouldContinueAsNew(ctx) {
			next = nextContinueAsNew
			break
		}
		next, err = w.slice(ctx)
	}
	if next == nextGoOn {
		next, err = w.finish(ctx)
	}
	return w.result(ctx, next, err)
}

// begin checks the channel and begins a generation, waiting while the channel
// needs reauthorisation. Unless it began, the run ends or continues as new.
func (w *listingDownload) begin(ctx workflow.Context) (loopNext, error) {
	w.say(ctx, ListingStarting, "Checking the channel.")
	for {
		var res contract.BeginListingResult
		err := workflow.ExecuteActivity(listingShortOptions(ctx), contract.BeginListingDownload,
			contract.BeginListingInput{Channel: w.in.Channel, RunID: workflow.GetInfo(ctx).WorkflowExecution.RunID}).Get(ctx, &res)
		if err != nil {
			return nextEnd, w.endWithout(ctx, err)
		}
		w.progress.ListingDownloadState, w.progress.ChannelState = res.State, res.Status.State
		switch {
		case res.Began:
			w.gen = res.State.Generation
			w.say(ctx, ListingDownloading, "Downloading: waiting for the first page, which tells the total.")
			return nextGoOn, nil
		case res.Status.State == channel.StateDisabled:
			w.say(ctx, ListingSkipped, "Not started: "+res.Status.Reason+".")
			return nextEnd, nil
		}
		status, next, err := w.waitForConsent(ctx, res.Status)
		switch {
		case next == nextContinueAsNew:
			return next, nil
		case err != nil:
			return nextEnd, w.endWithout(ctx, err)
		case status.State == channel.StateDisabled:
			w.say(ctx, ListingSkipped, "Not started: "+status.Reason+".")
			return nextEnd, nil
		}
	}
}

// slice runs the page activity once and takes in its progress.
func (w *listingDownload) slice(ctx workflow.Context) (loopNext, error) {
	w.slices++
	size := w.in.Slice
	if w.progress.PagesTotal == nil {
		size = time.Nanosecond // the first page tells the total: show it, and the estimate, at once
	}
	var res contract.ListingPagesResult
	err := workflow.ExecuteActivity(listingPagesOptions(ctx), contract.DownloadListingPages, contract.ListingPagesInput{
		Channel: w.in.Channel, Generation: w.gen, Slice: size, PerPage: w.perPage,
	}).Get(ctx, &res)
	if err != nil {
		return w.onPagesError(ctx, err)
	}
	w.perPage = res.PerPage
	w.progress.ListingDownloadState, w.progress.ChannelState = res.State, res.Status.State
	msg := listingDownloadingMessage(res.State)
	if res.Starved {
		msg += " Waiting for rate budget: order and stock traffic go first."
	}
	w.say(ctx, ListingDownloading, msg)
	return nextGoOn, nil
}

// onPagesError decides what a failed slice means: wait for consent and go on,
// or end the run (without removing anything) with the reason.
func (w *listingDownload) onPagesError(ctx workflow.Context, err error) (loopNext, error) {
	switch {
	case contract.IsType(err, contract.ErrTypeNeedsReauth):
		var status channel.Status
		if err := workflow.ExecuteActivity(listingShortOptions(ctx), contract.ChannelStatus, w.in.Channel).Get(ctx, &status); err != nil {
			return nextEnd, w.endWithout(ctx, err)
		}
		if status.State == channel.StateOK {
			// EKM refused, but the hub still says the channel may run: resuming now
			// would only be refused again, so the run ends (nothing removed) with why.
			return nextEnd, w.end(ctx, ListingFailed, "Failed: "+listingCause(err)+".", true)
		}
		status, next, err := w.waitForConsent(ctx, status)
		switch {
		case next == nextContinueAsNew:
			return next, nil
		case err != nil:
			return nextEnd, w.endWithout(ctx, err)
		case status.State == channel.StateDisabled:
			return nextEnd, w.end(ctx, ListingStopped, "Stopped: "+status.Reason+".", false)
		}
		w.say(ctx, ListingDownloading, "Reauthorised: resuming at page "+fmt.Sprint(w.progress.PagesDone+1)+".")
		return nextGoOn, nil
	case contract.IsType(err, contract.ErrTypeDisabled):
		return nextEnd, w.end(ctx, ListingStopped, "Stopped: "+listingCause(err)+".", false)
	}
	return nextEnd, w.endWithout(ctx, err)
}

// endWithout ends the run after a step failed for good: a removed channel or a
// superseded generation has nothing to record; anything else (EKM refused the
// request) is recorded as the generation's failed outcome.
func (w *listingDownload) endWithout(ctx workflow.Context, err error) error {
	switch {
	case contract.IsType(err, contract.ErrTypeChannelGone):
		w.progress.InProgress = false
		w.say(ctx, ListingStopped, "Stopped: the channel was removed.")
		return nil
	case contract.IsType(err, contract.ErrTypeSuperseded):
		w.progress.InProgress = false
		w.say(ctx, ListingStopped, "Stopped: a newer download of the channel began.")
		return nil
	case w.gen == 0:
		w.say(ctx, ListingFailed, "Failed: "+listingCause(err)+".")
		return nil
	}
	return w.end(ctx, ListingFailed, "Failed: "+listingCause(err)+".", true)
}

// end ends the generation without completing it, recording the outcome in the hub.
func (w *listingDownload) end(ctx workflow.Context, phase ListingPhase, msg string, failed bool) error {
	var st contract.ListingDownloadState
	err := workflow.ExecuteActivity(listingShortOptions(ctx), contract.EndListingDownload, contract.EndListingInput{
		Channel: w.in.Channel, Generation: w.gen, Outcome: strings.ToLower(msg[:1]) + msg[1:], Failed: failed,
	}).Get(ctx, &st)
	if err != nil && !contract.IsType(err, contract.ErrTypeChannelGone) {
		return err
	}
	if err == nil {
		w.progress.ListingDownloadState = st
	}
	w.progress.InProgress = false
	w.say(ctx, phase, msg)
	return nil
}

// finish completes the generation: the products the pages did not show are
// checked with EKM (the pages may have skipped some), then the listings EKM no
// longer has are marked removed and the SKU problems counted. The run then ends,
// unless it waited for reauthorisation so long that it continues as new.
func (w *listingDownload) finish(ctx workflow.Context) (loopNext, error) {
	w.say(ctx, ListingFinishing, "Finishing: checking with EKM the products the pages did not show.")
	for {
		var res contract.VerifyUnseenResult
		err := workflow.ExecuteActivity(listingPagesOptions(ctx), contract.VerifyUnseenListings,
			contract.ListingGenerationInput{Channel: w.in.Channel, Generation: w.gen}).Get(ctx, &res)
		if err == nil {
			if res.State.Generation != 0 {
				w.progress.ListingDownloadState = res.State
			}
			break
		}
		if next, err := w.onPagesError(ctx, err); next != nextGoOn {
			return next, err
		}
	}
	w.say(ctx, ListingFinishing, "Finishing: marking the listings EKM no longer has as removed, counting SKU problems.")
	var st contract.ListingDownloadState
	if err := workflow.ExecuteActivity(listingFinishOptions(ctx), contract.FinishListingDownload,
		contract.ListingGenerationInput{Channel: w.in.Channel, Generation: w.gen}).Get(ctx, &st); err != nil {
		return nextEnd, w.endWithout(ctx, err)
	}
	w.progress.ListingDownloadState = st
	phase := ListingCompleted
	if st.BadProducts > 0 {
		phase = ListingIncomplete
	}
	w.say(ctx, phase, listingSentence(st.LastOutcome)+".")
	return nextEnd, nil
}

// waitForConsent waits while the channel needs reauthorisation, waking on the wake
// signal or every listingPoll to re-read it; it returns the channel's new status,
// or nextContinueAsNew when the history fills up meanwhile.
func (w *listingDownload) waitForConsent(ctx workflow.Context, status channel.Status) (channel.Status, loopNext, error) {
	for status.State == channel.StateNeedsReauth {
		w.progress.ChannelState = status.State
		w.say(ctx, ListingWaiting, "Waiting for reauthorisation: "+status.Reason+".")
		if w.shouldContinueAsNew(ctx) {
			return status, nextContinueAsNew, nil
		}
		// A cancelled run stops at the activity below, with its error.
		_, _ = awaitOrTimeout(ctx, listingPoll, func() bool { return w.woken })
		w.woken = false // one re-read answers every wake-up
		if err := workflow.ExecuteActivity(listingShortOptions(ctx), contract.ChannelStatus, w.in.Channel).Get(ctx, &status); err != nil {
			return status, nextGoOn, err
		}
	}
	w.progress.ChannelState = status.State
	return status, nextGoOn, nil
}

// shouldContinueAsNew reports whether the history has grown enough to continue as new.
func (w *listingDownload) shouldContinueAsNew(ctx workflow.Context) bool {
	return historyFull(ctx) || workflow.GetInfo(ctx).GetCurrentHistoryLength() >= listingHistoryLimit ||
		w.slices >= listingSlicesPerRun
}

// result turns the end of a run into its result, or into a continue-as-new that
// carries the generation on: the run's one continue-as-new point.
func (w *listingDownload) result(ctx workflow.Context, next loopNext, err error) (ListingDownloadResult, error) {
	if next == nextContinueAsNew {
		w.woken = false // the next run reads the channel anyway
		next := w.in
		if w.gen != 0 {
			next.Resume = &ListingResume{Generation: w.gen, PerPage: w.perPage, Runs: w.runs, Progress: w.progress}
		}
		return ListingDownloadResult{}, workflow.NewContinueAsNewError(ctx, ListingDownloadWorkflow, next)
	}
	if err != nil {
		return ListingDownloadResult{}, err
	}
	return ListingDownloadResult{ListingProgress: w.progress, Runs: w.runs}, nil
}

// listingCause is the message of the application error behind an activity's
// failure, without Temporal's wrapping.
func listingCause(err error) string {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return strings.TrimSuffix(app.Message(), ".")
	}
	return err.Error()
}

func listingSentence(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
