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
	"github.com/ekmsync/ekmsync/internal/present"
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
	// worker's slice is retried elsewhere. Each running slice costs the Temporal
	// server a heartbeat and a re-armed timeout timer per period, which made the
	// 200 slices a worker runs at once a large part of its load at 10 s; a
	// download is the least urgent work, and half a minute to notice a dead
	// worker is little against its hours.
	listingHeartbeat = 30 * time.Second
)

// ListingDownload downloads every product and variant of a channel's shop into the
// hub's listings (docs/channel-semantics.md §5): one generation, page by page in slices
// of a few seconds, so that the progress query, the search attributes and the
// current details follow it, and the history stays bounded (continue-as-new). A
// disabled channel ends the run at once with the reason; one that needs
// reauthorisation waits for the wake signal (or polls); a channel disabled
// mid-run stops it, and nothing is marked removed. The run never fails for the
// channel's state: the outcome is in the result. Its state is one struct,
// contract.ListingProgress: its input (a starter passes only the channel), the
// answer to its progress query, what it continues as new with, and its result.
func ListingDownload(ctx workflow.Context, st contract.ListingProgress) (contract.ListingProgress, error) {
	if strings.TrimSpace(st.Channel) == "" {
		return contract.ListingProgress{}, temporal.NewNonRetryableApplicationError(
			"ListingDownload needs the channel's name in its input, e.g. {\"channel\": \"shop\"}", contract.ErrTypeBadInput, nil)
	}
	st.Runs++
	if st.Downloading == 0 {
		st.Phase, st.Message = contract.ListingStarting, "Checking the channel."
	}
	w := &listingDownload{st: st}
	if err := w.setup(ctx); err != nil {
		return contract.ListingProgress{}, err
	}
	return w.run(ctx)
}

// listingDownload is one run of ListingDownload.
type listingDownload struct {
	st     contract.ListingProgress
	slices int  // slices in this run
	woken  bool // a wake signal came: re-read the channel (set by a goroutine of setup)
	shown  listingShown
}

// setup registers the progress query and the wake signal.
func (w *listingDownload) setup(ctx workflow.Context) error {
	wake := workflow.GetSignalChannel(ctx, SignalWake)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			wake.Receive(ctx, nil)
			w.woken = true
		}
	})
	return workflow.SetQueryHandlerWithOptions(ctx, QueryProgress, func() (contract.ListingProgress, error) { return w.st, nil },
		workflow.QueryHandlerOptions{Description: "the listing download's progress: pages, products, listings, SKU problems, estimated completion"})
}

// run is the download: begin (or resume) a generation, fetch its pages slice by
// slice, finish it; each step says what comes next, and the run ends or
// continues as new at its one point, result.
func (w *listingDownload) run(ctx workflow.Context) (contract.ListingProgress, error) {
	next, err := nextGoOn, error(nil)
	if w.st.Downloading == 0 {
		next, err = w.begin(ctx)
	} else {
		w.st.Phase, w.st.Message = contract.ListingDownloading, "Resuming the download at page "+fmt.Sprint(w.st.PagesDone+1)+"."
		w.publish(ctx)
	}
	for next == nextGoOn && !w.st.AllPagesDone() {
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
// needs reauthorisation: nextGoOn once it began, else the run ends or
// continues as new.
func (w *listingDownload) begin(ctx workflow.Context) (loopNext, error) {
	w.st.Phase, w.st.Message = contract.ListingStarting, "Checking the channel."
	w.publish(ctx)
	for {
		res, err := execute[contract.BeginListingResult](ctx, listingShortOptions, contract.BeginListingDownload,
			contract.BeginListingInput{Channel: w.st.Channel, RunID: workflow.GetInfo(ctx).WorkflowExecution.RunID})
		if err != nil {
			return nextEnd, w.endWithout(ctx, err)
		}
		w.st.ListingDownloadState, w.st.ChannelState = res.State, res.Status.State
		switch {
		case res.Began:
			w.st.Downloading = res.State.Generation
			w.st.Phase, w.st.Message = contract.ListingDownloading, "Downloading: waiting for the first page, which tells the total."
			w.publish(ctx)
			return nextGoOn, nil
		case res.Status.State == channel.StateDisabled:
			w.st.Phase, w.st.Message = contract.ListingSkipped, "Not started: "+res.Status.Reason+"."
			w.publish(ctx)
			return nextEnd, nil
		}
		status, next, err := w.waitForConsent(ctx, res.Status)
		switch {
		case next == nextContinueAsNew:
			return next, nil
		case err != nil:
			return nextEnd, w.endWithout(ctx, err)
		case status.State == channel.StateDisabled:
			w.st.Phase, w.st.Message = contract.ListingSkipped, "Not started: "+status.Reason+"."
			w.publish(ctx)
			return nextEnd, nil
		}
	}
}

// slice runs the page activity once and takes in its progress.
func (w *listingDownload) slice(ctx workflow.Context) (loopNext, error) {
	w.slices++
	size := w.st.Slice
	if w.st.PagesTotal == nil {
		size = time.Nanosecond // the first page tells the total: show it, and the estimate, at once
	}
	res, err := execute[contract.ListingPagesResult](ctx, listingPagesOptions, contract.DownloadListingPages, contract.ListingPagesInput{
		Channel: w.st.Channel, Generation: w.st.Downloading, Slice: size, PerPage: w.st.PerPage,
	})
	if err != nil {
		return w.onPagesError(ctx, err)
	}
	w.st.PerPage = res.PerPage
	w.st.ListingDownloadState, w.st.ChannelState = res.State, res.Status.State
	msg := present.ListingDownloading(res.State)
	if res.Starved {
		msg += " Waiting for rate budget: order and stock traffic go first."
	}
	w.st.Phase, w.st.Message = contract.ListingDownloading, msg
	w.publish(ctx)
	return nextGoOn, nil
}

// onPagesError decides what a failed slice means: wait for consent and go on,
// or end the run (without removing anything) with the reason.
func (w *listingDownload) onPagesError(ctx workflow.Context, err error) (loopNext, error) {
	switch {
	case contract.IsType(err, contract.ErrTypeNeedsReauth):
		status, serr := execute[channel.Status](ctx, listingShortOptions, contract.ChannelStatus, w.st.Channel)
		if serr != nil {
			return nextEnd, w.endWithout(ctx, serr)
		}
		if status.State == channel.StateOK {
			// EKM refused, but the hub still says the channel may run: resuming now
			// would only be refused again, so the run ends (nothing removed) with why.
			return nextEnd, w.end(ctx, contract.ListingFailed, "Failed: "+listingCause(err)+".", true)
		}
		status, next, err := w.waitForConsent(ctx, status)
		switch {
		case next == nextContinueAsNew:
			return next, nil
		case err != nil:
			return nextEnd, w.endWithout(ctx, err)
		case status.State == channel.StateDisabled:
			return nextEnd, w.end(ctx, contract.ListingStopped, "Stopped: "+status.Reason+".", false)
		}
		w.st.Phase, w.st.Message = contract.ListingDownloading, "Reauthorised: resuming at page "+fmt.Sprint(w.st.PagesDone+1)+"."
		w.publish(ctx)
		return nextGoOn, nil
	case contract.IsType(err, contract.ErrTypeDisabled):
		return nextEnd, w.end(ctx, contract.ListingStopped, "Stopped: "+listingCause(err)+".", false)
	}
	return nextEnd, w.endWithout(ctx, err)
}

// waitForConsent waits while the channel needs reauthorisation, waking on the wake
// signal or every listingPoll to re-read it; it returns the channel's new status,
// or nextContinueAsNew when the history fills up meanwhile.
func (w *listingDownload) waitForConsent(ctx workflow.Context, status channel.Status) (channel.Status, loopNext, error) {
	for status.State == channel.StateNeedsReauth {
		w.st.ChannelState = status.State
		w.st.Phase, w.st.Message = contract.ListingWaiting, "Waiting for reauthorisation: "+status.Reason+"."
		w.publish(ctx)
		if w.shouldContinueAsNew(ctx) {
			return status, nextContinueAsNew, nil
		}
		// A cancelled run stops at the activity below, with its error.
		_, _ = awaitOrTimeout(ctx, listingPoll, func() bool { return w.woken })
		w.woken = false // one re-read answers every wake-up
		var err error
		if status, err = execute[channel.Status](ctx, listingShortOptions, contract.ChannelStatus, w.st.Channel); err != nil {
			return status, nextGoOn, err
		}
	}
	w.st.ChannelState = status.State
	return status, nextGoOn, nil
}

// finish completes the generation: the products the pages did not show are
// checked with EKM (the pages may have skipped some), then the listings EKM no
// longer has are marked removed and the SKU problems counted. The run then ends,
// unless it waited for reauthorisation so long that it continues as new.
func (w *listingDownload) finish(ctx workflow.Context) (loopNext, error) {
	w.st.Phase, w.st.Message = contract.ListingFinishing, "Finishing: checking with EKM the products the pages did not show."
	w.publish(ctx)
	for {
		res, err := execute[contract.VerifyUnseenResult](ctx, listingPagesOptions, contract.VerifyUnseenListings,
			contract.ListingGenerationInput{Channel: w.st.Channel, Generation: w.st.Downloading})
		if err == nil {
			if res.State.Generation != 0 {
				w.st.ListingDownloadState = res.State
			}
			break
		}
		if next, err := w.onPagesError(ctx, err); next != nextGoOn {
			return next, err
		}
	}
	w.st.Phase, w.st.Message = contract.ListingFinishing, "Finishing: marking the listings EKM no longer has as removed, counting SKU problems."
	w.publish(ctx)
	st, err := execute[contract.ListingDownloadState](ctx, listingFinishOptions, contract.FinishListingDownload,
		contract.ListingGenerationInput{Channel: w.st.Channel, Generation: w.st.Downloading})
	if err != nil {
		return nextEnd, w.endWithout(ctx, err)
	}
	w.st.ListingDownloadState = st
	w.st.Phase, w.st.Message = contract.ListingCompleted, present.Sentence(st.LastOutcome)+"."
	if st.BadProducts > 0 {
		w.st.Phase = contract.ListingIncomplete
	}
	w.publish(ctx)
	return nextEnd, nil
}

// endWithout ends the run after a step failed for good: a removed channel or a
// superseded generation has nothing to record; anything else (EKM refused the
// request) is recorded as the generation's failed outcome.
func (w *listingDownload) endWithout(ctx workflow.Context, err error) error {
	switch {
	case contract.IsType(err, contract.ErrTypeChannelGone):
		w.st.InProgress = false
		w.st.Phase, w.st.Message = contract.ListingStopped, "Stopped: the channel was removed."
		w.publish(ctx)
		return nil
	case contract.IsType(err, contract.ErrTypeSuperseded):
		w.st.InProgress = false
		w.st.Phase, w.st.Message = contract.ListingStopped, "Stopped: a newer download of the channel began."
		w.publish(ctx)
		return nil
	case w.st.Downloading == 0:
		w.st.Phase, w.st.Message = contract.ListingFailed, "Failed: "+listingCause(err)+"."
		w.publish(ctx)
		return nil
	}
	return w.end(ctx, contract.ListingFailed, "Failed: "+listingCause(err)+".", true)
}

// end ends the generation without completing it, recording the outcome in the hub.
func (w *listingDownload) end(ctx workflow.Context, phase contract.ListingPhase, msg string, failed bool) error {
	st, err := execute[contract.ListingDownloadState](ctx, listingShortOptions, contract.EndListingDownload, contract.EndListingInput{
		Channel: w.st.Channel, Generation: w.st.Downloading, Outcome: strings.ToLower(msg[:1]) + msg[1:], Failed: failed,
	})
	if err != nil && !contract.IsType(err, contract.ErrTypeChannelGone) {
		return err
	}
	if err == nil {
		w.st.ListingDownloadState = st
	}
	w.st.InProgress = false
	w.st.Phase, w.st.Message = phase, msg
	w.publish(ctx)
	return nil
}

// shouldContinueAsNew reports whether the history has grown enough to continue as new.
func (w *listingDownload) shouldContinueAsNew(ctx workflow.Context) bool {
	perRun := w.st.SlicesPerRun
	if perRun <= 0 {
		perRun = contract.DefaultListingSlicesPerRun
	}
	return historyFull(ctx) || workflow.GetInfo(ctx).GetCurrentHistoryLength() >= listingHistoryLimit || w.slices >= perRun
}

// result turns the end of a run into its result, or into a continue-as-new that
// carries the state on: the run's one continue-as-new point.
func (w *listingDownload) result(ctx workflow.Context, next loopNext, err error) (contract.ListingProgress, error) {
	if next == nextContinueAsNew {
		w.woken = false // the next run reads the channel anyway
		return contract.ListingProgress{}, workflow.NewContinueAsNewError(ctx, ListingDownloadWorkflow, w.st)
	}
	if err != nil {
		return contract.ListingProgress{}, err
	}
	return w.st, nil
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
