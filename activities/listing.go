package activities

import (
	"context"
	"errors"

	"go.temporal.io/sdk/temporal"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/shop"
	"github.com/ekmsync/ekmsync/internal/store"
)

// BeginListingDownload checks the channel and, when it may call EKM, begins a new
// download generation in the hub (in progress, start time now, counters at zero).
// A disabled channel does not begin, nor one that needs reauthorisation (the
// workflow waits for it): the reason is recorded as the last outcome.
// An order-status mapping problem does not stop a listing download.
func (a *Activities) BeginListingDownload(ctx context.Context, in BeginListingInput) (BeginListingResult, error) {
	s, err := a.settings(ctx, in.Channel)
	if err != nil {
		return BeginListingResult{}, err
	}
	res := BeginListingResult{Status: s.Status()}
	switch res.Status.State {
	case channel.StateDisabled, channel.StateNeedsReauth:
		outcome := "not started: " + res.Status.Reason
		if res.Status.State == channel.StateNeedsReauth {
			outcome = "waiting for reauthorisation: " + res.Status.Reason
		}
		if err := a.Store.NoteListingOutcome(ctx, s.ID, outcome); err != nil {
			return res, err
		}
		res.State, err = listingState(a.Store.ListingDownload(ctx, s.ID))
		return res, err
	}
	res.State, err = listingState(a.Store.BeginListingDownload(ctx, s.ID, in.RunID))
	res.Began = err == nil
	return res, err
}

// FinishListingDownload completes a generation whose pages are all committed:
// unseen listings are marked removed, SKU problems recounted, the Completion Time
// set (store.FinishListingDownload). It is idempotent.
func (a *Activities) FinishListingDownload(ctx context.Context, in ListingGenerationInput) (store.ListingDownloadState, error) {
	s, err := a.settings(ctx, in.Channel)
	if err != nil {
		return store.ListingDownloadState{}, err
	}
	st, err := a.Store.FinishListingDownload(ctx, s.ID, in.Generation)
	return st, listingSuperseded(err)
}

// EndListingDownload ends a generation that cannot complete (the channel was
// disabled, or EKM refused the request): no longer in progress, nothing marked
// removed. A channel removed meanwhile has nothing left to end.
func (a *Activities) EndListingDownload(ctx context.Context, in EndListingInput) (store.ListingDownloadState, error) {
	s, err := a.settings(ctx, in.Channel)
	if err != nil {
		return store.ListingDownloadState{}, err
	}
	if in.Failed {
		if err := a.Store.RecordError(ctx, s.ID, "listings", in.Outcome); err != nil {
			return store.ListingDownloadState{}, err
		}
	}
	return a.Store.EndListingDownload(ctx, s.ID, in.Generation, in.Outcome)
}

// listingSuperseded makes a write to a generation that is no longer current a
// non-retryable error: retrying cannot make it current again.
func listingSuperseded(err error) error {
	if errors.Is(err, store.ErrListingGeneration) {
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeSuperseded, err)
	}
	return err
}

// listingGate is the channel's state as an error that stops a listing step: a
// disabled channel or one that needs reauthorisation, in the words of its status.
func listingGate(status channel.Status) error {
	switch status.State {
	case channel.StateDisabled:
		return classify(listingGateError{reason: status.Reason, gate: shop.ErrDisabled})
	case channel.StateNeedsReauth:
		return classify(listingGateError{reason: status.Reason, gate: shop.ErrNeedsReauth})
	}
	return nil
}

// listingGateError is the gate's refusal in the words of the channel's status.
type listingGateError struct {
	reason string
	gate   error
}

func (e listingGateError) Error() string { return e.reason }
func (e listingGateError) Unwrap() error { return e.gate }
