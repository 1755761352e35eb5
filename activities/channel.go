package activities

import (
	"context"
	"errors"

	"go.temporal.io/sdk/temporal"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/store"
)

// ChannelStatus reads a channel's state (ok, disabled, needs-reauth, misconfigured)
// from the hub, without calling EKM. Idle loops poll it, cheaply, to resume on their
// own once an operator fixes the channel.
func (a *Activities) ChannelStatus(ctx context.Context, name string) (channel.Status, error) {
	s, err := a.settings(ctx, name)
	if err != nil {
		return channel.Status{}, err
	}
	return s.Status(), nil
}

// settings reads a channel's settings afresh: activities read them at every step,
// so a change applies without a restart.
func (a *Activities) settings(ctx context.Context, name string) (channel.Settings, error) {
	s, err := a.Store.Channel(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return s, temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeChannelGone, err)
	}
	return s, err
}
