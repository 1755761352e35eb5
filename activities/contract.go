package activities

import (
	"github.com/ekmsync/ekmsync/internal/contract"
	"github.com/ekmsync/ekmsync/internal/store"
)

// The activities' inputs, results and error types are the contract's
// (internal/contract), which the workflows and the operator CLI use without this
// package and the hub's code behind it. The names below keep the activities'
// code reading as before.

// Order activities.
type (
	OrderCounts          = contract.OrderCounts
	SkipReason           = contract.SkipReason
	Quarantined          = contract.Quarantined
	SyncOrdersInput      = contract.SyncOrdersInput
	SyncOrdersResult     = contract.SyncOrdersResult
	BackfillOrdersInput  = contract.BackfillOrdersInput
	BackfillOrdersResult = contract.BackfillOrdersResult
	OrderLoopConfig      = contract.OrderLoopConfig
)

// Push activities.
type (
	PushInput       = contract.PushInput
	PushCheckResult = contract.PushCheckResult
	StepResult      = contract.StepResult
)

// Listing download activities.
type (
	BeginListingInput      = contract.BeginListingInput
	BeginListingResult     = contract.BeginListingResult
	ListingGenerationInput = contract.ListingGenerationInput
	EndListingInput        = contract.EndListingInput
	ListingPagesInput      = contract.ListingPagesInput
	ListingPagesResult     = contract.ListingPagesResult
	VerifyUnseenResult     = contract.VerifyUnseenResult
)

// Application error types (see internal/contract/errors.go).
const (
	ErrTypeNeedsReauth    = contract.ErrTypeNeedsReauth
	ErrTypeDisabled       = contract.ErrTypeDisabled
	ErrTypeRejected       = contract.ErrTypeRejected
	ErrTypeChannelGone    = contract.ErrTypeChannelGone
	ErrTypeSuperseded     = contract.ErrTypeSuperseded
	ErrTypeBadInput       = contract.ErrTypeBadInput
	ErrTypeWorkerStopping = contract.ErrTypeWorkerStopping
	ErrTypeRateLimited    = contract.ErrTypeRateLimited
)

// IsType reports whether err is (or wraps) a Temporal application error of type t.
func IsType(err error, t string) bool { return contract.IsType(err, t) }

// listingState converts the hub's listing download row, as a store call returns
// it, into the contract's.
func listingState(st store.ListingDownloadState, err error) (contract.ListingDownloadState, error) {
	return contract.ListingDownloadState(st), err
}
