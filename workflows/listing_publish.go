package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/present"
)

// listingShown is what the run last set as search attributes, so that an
// unchanged value costs no history event.
type listingShown struct {
	state      channel.State
	inProgress bool
	start, eta time.Time
}

// publish shows the state: the current details in the Web UI, and the search
// attributes operators filter on, when they changed.
func (w *listingDownload) publish(ctx workflow.Context) {
	workflow.SetCurrentDetails(ctx, present.ListingDetails(w.st))
	p := w.st
	now := listingShown{state: p.ChannelState, inProgress: p.InProgress && !p.Phase.Final()}
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
