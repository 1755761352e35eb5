package activities

import (
	"errors"
	"strings"

	"go.temporal.io/sdk/temporal"

	"github.com/ekmsync/ekmsync/internal/ekm"
	"github.com/ekmsync/ekmsync/internal/shop"
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
		return temporal.NewApplicationErrorWithOptions(err.Error(), ErrTypeRateLimited,
			temporal.ApplicationErrorOptions{Cause: err, NextRetryDelay: ekm.RetryAfter(err)})
	}
	return err
}

// reason is a short, secret-free explanation of err for statuses and records.
func reason(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "\n"); i >= 0 {
		msg = msg[:i]
	}
	return msg
}
