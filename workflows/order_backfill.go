package workflows

import (
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/contract"
)

// OrderBackfillInput is the input of OrderBackfill: a channel and either a date
// range [From, To) or order ids. The workflow hands it to the activity as is.
type OrderBackfillInput = contract.BackfillOrdersInput

// OrderBackfill re-reads a channel's orders of a date range, or by id, with the
// order sync's rules (docs/channel-semantics.md §2). It is idempotent (orders are
// upserted on their EKM id), runs beside the loop, and never moves the Order
// Sync Date. A channel that is not ok makes it end at once with a result that
// says why, not fail.
func OrderBackfill(ctx workflow.Context, in OrderBackfillInput) (contract.BackfillOrdersResult, error) {
	if in.Channel == "" {
		return contract.BackfillOrdersResult{}, temporal.NewNonRetryableApplicationError("OrderBackfill needs a channel name", contract.ErrTypeBadInput, nil)
	}
	if len(in.IDs) == 0 && (in.From == nil || in.To == nil || !in.From.Before(*in.To)) {
		return contract.BackfillOrdersResult{}, temporal.NewNonRetryableApplicationError(
			"OrderBackfill needs order ids, or a date range whose start is before its end", contract.ErrTypeBadInput, nil)
	}
	res, err := execute[contract.BackfillOrdersResult](ctx, orderBackfillOptions, contract.BackfillOrders, in)
	switch {
	case contract.IsType(err, contract.ErrTypeChannelGone):
		res.Status.Reason = "the channel was removed during the back-fill"
		return res, nil
	case contract.IsType(err, contract.ErrTypeNeedsReauth):
		res.Status.State, res.Status.Reason = channel.StateNeedsReauth, "EKM refused the channel's authorisation: run 'starter channel reauthorise "+in.Channel+"', then back-fill again"
		return res, nil
	case contract.IsType(err, contract.ErrTypeDisabled):
		res.Status.State, res.Status.Reason = channel.StateDisabled, "the channel was disabled during the back-fill: enable it and back-fill again"
		return res, nil
	}
	return res, err
}
