package activities

import (
	"errors"
	"strings"

	"go.temporal.io/sdk/temporal"

	"github.com/ekmsync/ekmsync/internal/ekm"
	"github.com/ekmsync/ekmsync/internal/shop"
)

// Application error types the workflows act on. They are non-retryable: retrying
// them would only repeat the same refusal (docs/architecture.md: no retry storm).
const (
	ErrTypeNeedsReauth = "NeedsReauth"     // EKM rejected the refresh token
	ErrTypeDisabled    = "ChannelDisabled" // the channel was disabled
	ErrTypeRejected    = "EKMRejected"     // EKM answered 400/404/422 to a request
)

// classify turns an error from EKM or the gate into what Temporal should do with it:
// retry (the default), retry after EKM's rate-limit delay, or stop at once with a
// typed non-retryable error that names the problem.
func classify(err error) error {
	if err == nil {
		return nil
	}
	switch {
	case errors.Is(err, shop.ErrDisabled):
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeDisabled, err)
	case errors.Is(err, shop.ErrNeedsReauth):
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeNeedsReauth, err)
	}
	switch ekm.KindOf(err) {
	case ekm.KindNeedsReauth, ekm.KindInvalidClient, ekm.KindForbidden:
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeNeedsReauth, err)
	case ekm.KindBadRequest, ekm.KindNotFound, ekm.KindUnprocessable:
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeRejected, err)
	case ekm.KindRateLimited:
		return temporal.NewApplicationErrorWithOptions(err.Error(), "RateLimited",
			temporal.ApplicationErrorOptions{Cause: err, NextRetryDelay: ekm.RetryAfter(err)})
	}
	return err
}

// IsType reports whether err is (or wraps) a Temporal application error of type t,
// as the workflows see an activity's failure.
func IsType(err error, t string) bool {
	var app *temporal.ApplicationError
	return errors.As(err, &app) && app.Type() == t
}

// reason is a short, secret-free explanation of err for statuses and records.
func reason(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "\n"); i >= 0 {
		msg = msg[:i]
	}
	return msg
}
