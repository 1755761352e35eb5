package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/drift"
	"github.com/ekmsync/ekmsync/internal/ekm"
	"github.com/ekmsync/ekmsync/internal/present"
	"github.com/ekmsync/ekmsync/internal/shop"
	"github.com/ekmsync/ekmsync/internal/store"
	"github.com/ekmsync/ekmsync/workflows"
)

// driftResult is the result of 'channel drift'.
type driftResult struct {
	drift.Report
	DriftedOnly bool `json:"drifted_only"`
}

func (r driftResult) text(w io.Writer) {
	c := r.Counts
	fmt.Fprintf(w, "drift of %s at %s (orders since %s): %d drifted, %d pending\n", r.Channel, r.At.Format(time.DateTime),
		r.Since.Format(time.DateTime), c.Drifted(), c.Pending)
	fmt.Fprintf(w, "  compared: %d stock, %d prices, %d EKM orders; %d unreadable\n", r.Compared.Stock, r.Compared.Price,
		r.Compared.EKMOrders, r.Compared.Unreadable)
	fmt.Fprintf(w, "  stock %d, price %d, not on EKM %d, missed orders %d, shipped on EKM %d, cancelled on EKM %d, shipped in hub %d\n",
		c.Stock, c.Price, c.NotOnEKM, c.MissedOrders, c.ShippedOnEKM, c.CancelledOnEKM, c.ShippedInHub)
	for _, n := range r.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
	listed := false
	for _, l := range r.Listings {
		if l.State == drift.StateOK {
			continue
		}
		if !listed {
			fmt.Fprintln(tw, "\nLISTING\tSKU\tKIND\tSTATE\tEKM\tHUB\tCONFIRMED\tWHY")
			listed = true
		}
		key := strconv.FormatInt(l.ProductID, 10)
		if l.VariantID != 0 {
			key += "/" + strconv.FormatInt(l.VariantID, 10)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", key, l.SKU, l.Kind, l.State, present.OrDash(l.EKM), present.OrDash(l.Hub), present.OrDash(l.Confirmed), l.Reason)
	}
	if len(r.Orders) > 0 {
		fmt.Fprintln(tw, "\nEKM ORDER\tNUMBER\tKIND\tSTATE\tEKM STATUS\tHUB\tWHY")
		for _, o := range r.Orders {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", o.EKMOrderID, o.Number, o.Kind, o.State, o.EKMStatus, present.OrDash(o.HubStatus), o.Reason)
		}
	}
	_ = tw.Flush()
	if h := r.Healed; h != nil {
		fmt.Fprintf(w, "\nhealed: %d listing values marked unknown (the push sends the hub's values again)", h.ListingsMarked)
		if len(h.BackfillIDs) > 0 {
			fmt.Fprintf(w, "; %d orders handed to the back-fill (%s)", len(h.BackfillIDs), strings.Join(h.Backfills, ", "))
		}
		fmt.Fprintf(w, "; %d left to the operator\n", h.Left)
	} else if c.Drifted() > 0 {
		fmt.Fprintf(w, "\n'starter channel drift %s --heal' repairs them through the push and the order back-fill\n", r.Channel)
	}
}

func channelDriftCommand() *command {
	var heal, driftedOnly bool
	var since string
	return &command{
		name: "drift", args: "<channel>",
		summary: "compare EKM's listing stock and prices, and its orders since --since, with what the hub wants;\n" +
			"--heal hands the drifted ones to the push and the order back-fill (never writes to EKM itself)",
		flags: func(fs *flag.FlagSet) {
			fs.BoolVar(&heal, "heal", false, "repair: mark drifted stock and prices unknown in the push ledger, back-fill missed orders")
			fs.BoolVar(&driftedOnly, "drifted-only", false, "list only the drifted rows (not the ok and pending ones)")
			fs.StringVar(&since, "since", "7d", "the order window: a duration (7d, 36h) back from now, or a UTC date or time")
		},
		run: func(ctx context.Context, e *env, _ *flag.FlagSet, args []string) (result, error) {
			if err := needArgs(args, "<channel>"); err != nil {
				return nil, err
			}
			now := time.Now()
			from, err := parseSince(since, now)
			if err != nil {
				return nil, err
			}
			st, c, client, err := e.shopClient(ctx, args[0])
			if err != nil {
				return nil, err
			}
			r, err := drift.Run(ctx, st, client, c, drift.Options{Since: from, Now: now})
			if err != nil {
				return nil, fmt.Errorf("comparison of %s failed: %w", c.Name, err)
			}
			if heal {
				w, err := e.workflows(ctx)
				if err != nil {
					return nil, err
				}
				backfill := func(ctx context.Context, ids []int64) (string, error) {
					run, err := w.StartOrderBackfill(ctx, workflows.OrderBackfillInput{Channel: c.Name, IDs: ids})
					if err != nil {
						return "", err
					}
					return run.GetID(), nil
				}
				if _, err := drift.Heal(ctx, st, c, &r, actor(), backfill); err != nil {
					return driftResult{Report: r}, err
				}
			}
			if driftedOnly {
				r.DriftedOnly()
			}
			return driftResult{Report: r, DriftedOnly: driftedOnly}, nil
		},
	}
}

// shopClient reads the named channel and connects to its shop as a worker does:
// the Enabled gate applies, and the rate budget is the one every worker of the
// shop shares.
func (e *env) shopClient(ctx context.Context, name string) (*store.Store, channel.Settings, *ekm.Client, error) {
	st, c, err := channelOf(ctx, e, name)
	if err != nil {
		return nil, c, nil, err
	}
	if !c.Enabled {
		return nil, c, nil, fmt.Errorf("channel %s is disabled, and a disabled channel never calls EKM; enable it with 'starter channel enable %s'", c.Name, c.Name)
	}
	key, err := e.key()
	if err != nil {
		return nil, c, nil, err
	}
	conn := &shop.Connector{Store: st, Key: key, HTTP: &http.Client{Timeout: 60 * time.Second}}
	client, err := conn.Client(ctx, c)
	return st, c, client, err
}

// parseSince reads --since: "Nd" days, a Go duration, or a UTC date or time.
func parseSince(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	var d time.Duration
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days < 0 {
			return time.Time{}, usagef("--since %q: want a number of days such as 7d, a duration such as 36h, or a UTC date", s)
		}
		d = time.Duration(days) * 24 * time.Hour
	} else if v, err := time.ParseDuration(s); err == nil {
		d = v
	} else {
		t, err := parseWhen("--since", s, false)
		if err != nil {
			return time.Time{}, err
		}
		if t == nil {
			return time.Time{}, usagef("--since is empty")
		}
		d = now.Sub(*t)
	}
	if d <= 0 || d > drift.MaxWindow {
		return time.Time{}, usagef("--since %q: the window must be in the past and at most %d days (each 20 orders cost one EKM request)",
			s, int(drift.MaxWindow.Hours()/24))
	}
	return now.Add(-d), nil
}

// driftLine is the channel screen's line of the last drift comparison.
func driftLine(name string, d *store.DriftRun) string {
	if d == nil {
		return "none yet ('starter channel drift " + name + "' runs one)"
	}
	if d.LastError != "" {
		return present.UTC(d.LastRunAt) + " failed: " + d.LastError
	}
	var c drift.Counts
	if json.Unmarshal(d.Counts, &c) != nil {
		return present.UTC(d.LastRunAt)
	}
	if c.Drifted() == 0 {
		return present.UTC(d.LastRunAt) + ": nothing drifted"
	}
	return fmt.Sprintf("%s: %d drifted ('starter channel drift %s --drifted-only' lists them, --heal repairs them)",
		present.UTC(d.LastRunAt), c.Drifted(), name)
}
