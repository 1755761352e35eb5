package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
)

type removeResult struct {
	Channel string `json:"channel"`
	Purged  bool   `json:"purged"`
}

func (r removeResult) text(w io.Writer) {
	if r.Purged {
		fmt.Fprintf(w, "channel %s removed and its data deleted\n", r.Channel)
		return
	}
	fmt.Fprintf(w, "channel %s removed; its data is kept (delete it with --purge)\n", r.Channel)
}

func channelRemoveCommand() *command {
	var purge bool
	return &command{
		name: "remove", args: "<name>", summary: "stop the channel's workflows and remove it (its data is kept unless --purge)",
		flags: func(fs *flag.FlagSet) {
			fs.BoolVar(&purge, "purge", false, "also delete everything downloaded for the channel")
		},
		run: func(ctx context.Context, e *env, _ *flag.FlagSet, args []string) (result, error) {
			if err := needArgs(args, "<name>"); err != nil {
				return nil, err
			}
			st, err := e.store(ctx)
			if err != nil {
				return nil, err
			}
			if err := e.stopFlows(ctx, args[0]); err != nil {
				return nil, fmt.Errorf("stop the workflows of %s: %w (nothing was removed)", args[0], err)
			}
			if err := st.RemoveChannel(ctx, args[0], purge, actor()); err != nil {
				return nil, err
			}
			return removeResult{Channel: args[0], Purged: purge}, nil
		},
	}
}
