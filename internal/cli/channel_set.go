package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/ekmsync/ekmsync/internal/channel"
)

type setResult struct {
	Channel string                  `json:"channel"`
	Changed []channel.AppliedChange `json:"changed"`
	Status  channel.Status          `json:"status"`
}

func (r setResult) text(w io.Writer) {
	if len(r.Changed) == 0 {
		fmt.Fprintf(w, "nothing changed on %s\n", r.Channel)
	}
	for _, c := range r.Changed {
		fmt.Fprintf(w, "%s: %s -> %s\n", c.Key, orDash(c.Old), orDash(c.New))
	}
	if r.Status.State != channel.StateOK {
		fmt.Fprintf(w, "channel state: %s: %s\n", r.Status.State, r.Status.Reason)
	}
}

func channelSetCommand() *command {
	return &command{
		name: "set", args: "<name> <setting>=<value>...",
		summary: "change settings (all or none): " + strings.Join(channel.Keys(), ", ") + ", and status:<EKM status>=<unmapped|paid|unpaid|shipped|cancelled>",
		run: func(ctx context.Context, e *env, _ *flag.FlagSet, args []string) (result, error) {
			if len(args) < 2 {
				return nil, usagef("want a channel name and at least one setting=value")
			}
			var changes []channel.Change
			for _, a := range args[1:] {
				k, v, ok := strings.Cut(a, "=")
				if !ok {
					return nil, usagef("%q: want setting=value", a)
				}
				changes = append(changes, channel.Change{Key: strings.TrimSpace(k), Value: v})
			}
			return setSettings(ctx, e, args[0], changes)
		},
	}
}

func setSettings(ctx context.Context, e *env, name string, changes []channel.Change) (result, error) {
	st, err := e.store(ctx)
	if err != nil {
		return nil, err
	}
	var validation error
	next, applied, err := st.UpdateChannel(ctx, name, actor(), func(cur channel.Settings) (channel.Settings, []channel.AppliedChange, error) {
		n, a, err := channel.Apply(cur, changes)
		validation = err
		return n, a, err
	})
	if validation != nil {
		return nil, usagef("%v", validation)
	}
	if err != nil {
		return nil, err
	}
	if len(applied) > 0 {
		e.afterSettingsChange(ctx, next, applied)
	}
	if applied == nil {
		applied = []channel.AppliedChange{}
	}
	return setResult{Channel: name, Changed: applied, Status: next.Status()}, nil
}

func channelToggleCommand(on bool) *command {
	name, summary := "disable", "stop every EKM call of the channel (pending outbound work is kept)"
	if on {
		name, summary = "enable", "let the channel fetch from and send to EKM"
	}
	return &command{
		name: name, args: "<name>", summary: summary,
		run: func(ctx context.Context, e *env, _ *flag.FlagSet, args []string) (result, error) {
			if err := needArgs(args, "<name>"); err != nil {
				return nil, err
			}
			res, err := setSettings(ctx, e, args[0], []channel.Change{{Key: "enabled", Value: onOff(on)}})
			if r, ok := res.(setResult); ok && on && len(r.Changed) == 0 {
				e.ensureLoops(ctx, args[0]) // enabled already: start its loops if they stopped
			}
			return res, err
		},
	}
}
