package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/present"
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
		fmt.Fprintf(w, "%s: %s -> %s\n", c.Key, present.OrDash(c.Old), present.OrDash(c.New))
	}
	if r.Status.State != channel.StateOK {
		fmt.Fprintf(w, "channel state: %s: %s\n", r.Status.State, r.Status.Reason)
	}
}

func channelSetCommand() *command {
	var simulator bool
	return &command{
		name: "set", args: "<name> <setting>=<value>...",
		summary: "change settings (all or none): " + strings.Join(channel.Keys(), ", ") + ", status:<EKM status>=<unmapped|paid|unpaid|shipped|cancelled>,\n" +
			"and delivery:<EKM delivery method>=<hub delivery service> (empty: remove; orders of a method without one are flagged in 'orders problems').\n" +
			"api-base-url re-binds the sealed credentials to the URL (EKM's, a loopback one, or any with --simulator); the same URL confirms one changed by SQL",
		flags: func(fs *flag.FlagSet) {
			fs.BoolVar(&simulator, "simulator", false, "let api-base-url be a host other than EKM's or a loopback address: a simulator")
		},
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
			for _, c := range changes {
				if strings.EqualFold(c.Key, "api-base-url") {
					return setAPISettings(ctx, e, args[0], changes, simulator)
				}
			}
			if simulator {
				return nil, usagef("--simulator goes with api-base-url=<url>")
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

// setAPISettings is setSettings for a change of api-base-url: the credentials are
// re-bound to the new URL in the same transaction, which needs the secret key.
func setAPISettings(ctx context.Context, e *env, name string, changes []channel.Change, simulator bool) (result, error) {
	st, err := e.store(ctx)
	if err != nil {
		return nil, err
	}
	key, err := e.key()
	if err != nil {
		return nil, err
	}
	var validation error
	next, applied, err := st.UpdateChannelAPI(ctx, key, name, actor(), simulator, func(cur channel.Settings) (channel.Settings, []channel.AppliedChange, error) {
		n, a, err := channel.Apply(cur, changes)
		validation = err
		return n, a, err
	})
	var hostErr *channel.APIHostError
	if validation != nil || errors.As(err, &hostErr) {
		return nil, usagef("%v", err)
	}
	if err != nil {
		return nil, err
	}
	e.afterSettingsChange(ctx, next, applied)
	if applied == nil {
		applied = []channel.AppliedChange{}
	}
	return setResult{Channel: name, Changed: applied, Status: next.Status()}, nil
}

func channelToggleCommand(on bool) *command {
	name, summary := "disable", "stop every EKM call of the channel (pending outbound work is kept)"
	if on {
		name, summary = "enable", "let the channel fetch from and send to EKM; its first enable also starts a listing download"
	}
	return &command{
		name: name, args: "<name>", summary: summary,
		run: func(ctx context.Context, e *env, _ *flag.FlagSet, args []string) (result, error) {
			if err := needArgs(args, "<name>"); err != nil {
				return nil, err
			}
			if on {
				return enableChannel(ctx, e, args[0])
			}
			return setSettings(ctx, e, args[0], []channel.Change{{Key: "enabled", Value: onOff(on)}})
		},
	}
}
