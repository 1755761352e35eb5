package workflows

import (
	"fmt"
	"strconv"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/contract"
)

// listingShortOptions are for the quick hub-only steps.
func listingShortOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: 30 * time.Second},
	})
}

// listingPagesOptions are for a slice of pages: a heartbeat every few seconds, so
// that a killed worker's slice is retried elsewhere within listingHeartbeat; room
// for the slice, a wait for budget and a slow last page; retried until it works
// (a disabled channel or rejected consent stops it without retries).
func listingPagesOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 3 * time.Minute,
		HeartbeatTimeout:    listingHeartbeat,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: time.Minute},
	})
}

// listingFinishOptions are for the finish, which updates every listing of the channel.
func listingFinishOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: time.Minute},
	})
}

// listingShown is what the run last set as search attributes, so that an
// unchanged value costs no history event.
type listingShown struct {
	state      channel.State
	inProgress bool
	start, eta time.Time
}

// say sets the run's phase and message, and shows them: the current details in
// the Web UI, and the search attributes operators filter on.
func (w *listingDownload) say(ctx workflow.Context, phase ListingPhase, msg string) {
	w.progress.Phase, w.progress.Message = phase, msg
	workflow.SetCurrentDetails(ctx, listingDetails(w.progress))
	p := w.progress
	now := listingShown{state: p.ChannelState, inProgress: p.InProgress && !phase.Final()}
	if p.StartTime != nil {
		now.start = p.StartTime.UTC().Truncate(time.Second)
	}
	if p.EstimatedCompletion != nil && now.inProgress {
		now.eta = p.EstimatedCompletion.UTC().Truncate(time.Second)
		if etaSettled(w.shown.eta, now.eta, workflow.Now(ctx)) {
			now.eta = w.shown.eta
		}
	}
	if now == w.shown {
		return
	}
	updates := []temporal.SearchAttributeUpdate{SAListingInProgress.ValueSet(now.inProgress)}
	if now.state != "" {
		updates = append(updates, SAChannelState.ValueSet(string(now.state)))
	}
	if !now.start.IsZero() {
		updates = append(updates, SAListingStartTime.ValueSet(now.start))
	}
	if now.eta.IsZero() {
		updates = append(updates, SAListingETA.ValueUnset())
	} else {
		updates = append(updates, SAListingETA.ValueSet(now.eta))
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx, updates...); err != nil {
		workflow.GetLogger(ctx).Warn("could not set the listing download's search attributes", "error", err)
		return
	}
	w.shown = now
}

// etaSettled reports whether a new estimate is close enough to the one shown
// (within 5% of the time left, or 5 s) to leave the search attribute as it is:
// each change is a history event, and an operator filtering on it cannot tell.
func etaSettled(shown, next, now time.Time) bool {
	if shown.IsZero() {
		return false
	}
	return next.Sub(shown).Abs() <= max(5*time.Second, next.Sub(now)/20)
}

// listingDownloadingMessage says in words how far a download is.
func listingDownloadingMessage(st contract.ListingDownloadState) string {
	if st.PagesTotal == nil {
		return "Downloading: waiting for the first page, which tells the total."
	}
	msg := fmt.Sprintf("Downloading: page %s of %s committed", listingCount(st.PagesDone), listingCount(*st.PagesTotal))
	if st.ProductsTotal != nil {
		msg += fmt.Sprintf(" (%s products in the shop)", listingCount(*st.ProductsTotal))
	}
	msg += fmt.Sprintf("; %s listings seen, %s with an empty and %s with a duplicate SKU so far.",
		listingCount(st.ListingsSeen), listingCount(st.EmptySKUs), listingCount(st.DuplicateSKUs))
	if st.EstimatedCompletion != nil {
		msg += " Estimated completion " + st.EstimatedCompletion.UTC().Format(time.DateTime) + " UTC."
	}
	return msg
}

// listingDetails is the run's current details, in Markdown, for the Web UI.
func listingDetails(p ListingProgress) string {
	d := fmt.Sprintf("**Listing download of %s: %s**\n\n%s\n", p.Channel, p.Phase, p.Message)
	if p.StartTime != nil {
		d += "\n- Start time: " + p.StartTime.UTC().Format(time.DateTime) + " UTC"
	}
	if p.PagesTotal != nil {
		d += fmt.Sprintf("\n- Pages: %s of %s", listingCount(p.PagesDone), listingCount(*p.PagesTotal))
	}
	if p.CompletionTime != nil {
		d += "\n- Last complete download: " + p.CompletionTime.UTC().Format(time.DateTime) + " UTC"
	}
	if p.ChannelState != "" {
		d += "\n- Channel state: " + string(p.ChannelState)
	}
	return d
}

// listingCount writes n with thousands separators, as operators read it.
func listingCount(n int) string {
	s := strconv.Itoa(n)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		s = "-" + s
	}
	return s
}
