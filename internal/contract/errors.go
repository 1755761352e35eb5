package contract

import (
	"errors"

	"go.temporal.io/sdk/temporal"
)

// The application error types, all in one place: the activities raise them, the
// workflows and the operator side act on them (with IsType).

// Application error types the workflows act on. They are non-retryable: retrying
// them would only repeat the same refusal (docs/architecture.md: no retry storm).
const (
	ErrTypeNeedsReauth = "NeedsReauth"     // EKM rejected the refresh token
	ErrTypeDisabled    = "ChannelDisabled" // the channel was disabled
	ErrTypeRejected    = "EKMRejected"     // EKM answered 400/404/422 to a request
)

// ErrTypeChannelGone is the application error type of an activity whose channel no
// longer exists: workflows end quietly on it instead of retrying.
const ErrTypeChannelGone = "ChannelGone"

// ErrTypeSuperseded is the application error type of a listing download step whose
// generation is no longer the channel's current one: the run stops, it does not retry.
const ErrTypeSuperseded = "ListingDownloadSuperseded"

// ErrTypeBadInput is the application error type of a request that can never
// succeed as given (a back-fill without a range or ids, a workflow started
// without a channel).
const ErrTypeBadInput = "BadInput"

// ErrTypeWorkerStopping is the type of the (retryable) error of an activity that
// its worker's stop cut short: Temporal runs it again on a running worker, and it
// resumes from what it committed.
const ErrTypeWorkerStopping = "WorkerStopping"

// ErrTypeRateLimited is the (retryable) error type of a request EKM refused for
// its rate limit: Temporal retries it after the delay EKM asked for.
const ErrTypeRateLimited = "RateLimited"

// ErrTypeSyncFailed is the error type of a sync-now Update whose sync failed; the
// loop itself goes on and retries at its next run.
const ErrTypeSyncFailed = "SyncFailed"

// IsType reports whether err is (or wraps) a Temporal application error of type t,
// as the workflows see an activity's failure.
func IsType(err error, t string) bool {
	var app *temporal.ApplicationError
	return errors.As(err, &app) && app.Type() == t
}
