package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/store"
)

// planResult is the result of 'push plan': the channel's mode and, in shadow,
// each EKM write its push would send, with the reason.
type planResult struct {
	Channel string `json:"channel"`
	Mode    string `json:"mode"`
	// Writes are the planned writes, as the push's latest shadow pass recorded
	// them; empty in live mode, where the ledger's pending work is sent.
	Writes []store.PlannedWrite `json:"writes"`
}

func (r planResult) text(w io.Writer) {
	if r.Mode != channel.ModeShadow {
		fmt.Fprintf(w, "channel %s is live: its push sends what is pending ('starter push status %s'); nothing is only planned\n", r.Channel, r.Channel)
		return
	}
	fmt.Fprintf(w, "channel %s is in shadow mode: %d EKM writes would be sent; none is ('starter channel set %s mode=live' sends them, once)\n",
		r.Channel, len(r.Writes), r.Channel)
	if len(r.Writes) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tSUBJECT\tWRITE\tTARGET\tVALUES\tREASON")
	for _, p := range r.Writes {
		values, _ := json.Marshal(p.Values)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", p.Kind, p.Subject, p.Write, p.Target, values, p.Reason)
	}
	_ = tw.Flush()
}

func pushPlanCommand() *command {
	return &command{
		name: "plan", args: "<channel>",
		summary: "show what the push of a channel in shadow mode would send to EKM: each write, its values and its reason,\n" +
			"as the push's latest pass computed it ('push now' computes it at once)",
		run: func(ctx context.Context, e *env, _ *flag.FlagSet, args []string) (result, error) {
			if err := needArgs(args, "<channel>"); err != nil {
				return nil, err
			}
			st, s, err := channelOf(ctx, e, args[0])
			if err != nil {
				return nil, err
			}
			res := planResult{Channel: s.Name, Mode: channel.ModeName(s.Shadow), Writes: []store.PlannedWrite{}}
			if !s.Shadow {
				return res, nil
			}
			if res.Writes, err = st.Plan(ctx, s.ID); err != nil {
				return nil, err
			}
			if res.Writes == nil {
				res.Writes = []store.PlannedWrite{}
			}
			return res, nil
		},
	}
}
