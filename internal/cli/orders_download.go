package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"go.temporal.io/api/serviceerror"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/contract"
	"github.com/ekmsync/ekmsync/internal/flows"
	"github.com/ekmsync/ekmsync/internal/present"
	"github.com/ekmsync/ekmsync/internal/store"
	"github.com/ekmsync/ekmsync/workflows"
)

// orderDownloadCommands are the order download's commands: sync, status, list,
// problems and backfill.
func orderDownloadCommands() []*command {
	return []*command{ordersSyncCommand(), ordersStatusCommand(), ordersListCommand(), ordersProblemsCommand(), ordersBackfillCommand()}
}

// syncResult is the result of 'orders sync'.
type syncResult struct {
	contract.SyncOrdersResult
}

func (r syncResult) text(w io.Writer) {
	fmt.Fprintf(w, "synced %s: %s\n", r.Channel, countsLine(r.OrderCounts))
	if r.Rechecked > 0 {
		fmt.Fprintf(w, "re-checked by id: %d parked, watched or quarantined orders\n", r.Rechecked)
	}
	printCounts(w, r.OrderCounts)
	fmt.Fprintf(w, "Order Sync Date [UTC]: %s; took %s\n", present.UTC(r.SyncDate), r.FinishedAt.Sub(r.StartedAt).Round(time.Millisecond))
}

func countsLine(c contract.OrderCounts) string {
	s := fmt.Sprintf("%d new, %d updated, %d unchanged, %d skipped, %d quarantined (%d EKM requests)",
		c.New, c.Updated, c.Unchanged, c.Skipped, c.Quarantined, c.Requests)
	var extra []string
	for _, x := range []struct {
		n    int
		what string
	}{{c.Parked, "parked unpaid"}, {c.Unparked, "paid and un-parked"}, {c.Cancelled, "switched to cancelled"},
		{c.ShippedOnChannel, "marked shipped on the channel"}} {
		if x.n > 0 {
			extra = append(extra, fmt.Sprintf("%d %s", x.n, x.what))
		}
	}
	if len(extra) > 0 {
		s += "; " + strings.Join(extra, ", ")
	}
	return s
}

func printCounts(w io.Writer, c contract.OrderCounts) {
	if len(c.Skips) > 0 {
		fmt.Fprintln(w, "skipped:")
		for _, s := range c.Skips {
			fmt.Fprintf(w, "  %5d  %s (e.g. %s)\n", s.Count, s.Reason, joinIDs(s.OrderIDs))
		}
	}
	if len(c.Problems) > 0 {
		fmt.Fprintln(w, "quarantined (see 'starter orders problems'):")
		for _, p := range c.Problems {
			fmt.Fprintf(w, "  %s: %s\n", p.Key, p.Reason)
		}
	}
}

func joinIDs(ids []int64) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(s, ", ")
}

func ordersSyncCommand() *command {
	var ids string
	var timeout time.Duration
	return &command{
		name: "sync", args: "<channel>",
		summary: "sync the channel's orders now and report what the sync did: new, updated, skipped with reasons, quarantined.\n" +
			"A channel's first sync reads the orders of the last 7 days; 'orders backfill' brings in older ones.",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&ids, "ids", "", "also fetch these EKM order ids, comma-separated")
			fs.DurationVar(&timeout, "timeout", 10*time.Minute,
				"give up waiting after this long, saying what the sync was waiting for (retries, the rate budget, a refusal)")
		},
		run: func(ctx context.Context, e *env, _ *flag.FlagSet, args []string) (result, error) {
			if err := needArgs(args, "<channel>"); err != nil {
				return nil, err
			}
			orderIDs, err := parseIDs(ids)
			if err != nil {
				return nil, err
			}
			if timeout <= 0 {
				return nil, usagef("--timeout must be positive, e.g. 10m")
			}
			w, err := channelWorkflows(ctx, e, args[0])
			if err != nil {
				return nil, err
			}
			sctx, stop := giveUpAfter(ctx, timeout)
			defer stop()
			res, err := w.SyncOrdersNow(sctx, args[0], workflows.SyncNowInput{OrderIDs: orderIDs})
			if err != nil && gaveUp(sctx) {
				return nil, fmt.Errorf("gave up after %s waiting for the order sync of %s: %s. The sync goes on in the loop: follow it with 'starter orders status %s'",
					timeout, args[0], e.orderSyncWaitingFor(ctx, w, args[0]), args[0])
			}
			if err != nil {
				return nil, loopError(args[0], err)
			}
			if !res.Ran {
				return nil, fmt.Errorf("not synced: channel %s is %s: %s", args[0], res.Status.State, res.Status.Reason)
			}
			return syncResult{res}, nil
		},
	}
}

// orderSyncWaitingFor says what an order sync that did not end in time was
// waiting for: the loop's state, its last error, the activity's retries.
func (e *env) orderSyncWaitingFor(ctx context.Context, w flows.Starter, name string) string {
	return e.waitingFor(ctx, w, workflows.OrderSyncID(name), name, true, func(ctx context.Context) []string {
		st, err := w.OrderSyncStatus(ctx, name)
		if err != nil {
			return nil
		}
		var r []string
		if st.State != channel.StateOK && st.State != "" {
			r = append(r, fmt.Sprintf("a refusal: the channel is %s: %s", st.State, st.Reason))
		}
		if st.LastError != "" {
			r = append(r, "the last sync failed: "+st.LastError)
		}
		return r
	})
}

// loopError explains a failed call to the order-sync loop.
func loopError(name string, err error) error {
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return fmt.Errorf("the order sync of channel %s is not running: start it with 'starter channel enable %s'", name, name)
	}
	return err
}

// channelWorkflows checks the channel in the hub first, for a clear error, and
// connects to Temporal.
func channelWorkflows(ctx context.Context, e *env, name string) (flows.Starter, error) {
	if _, _, err := channelOf(ctx, e, name); err != nil {
		return flows.Starter{}, err
	}
	return e.workflows(ctx)
}

// channelOf reads a channel from the hub (the store's error for an unknown name
// says how to list the channels).
func channelOf(ctx context.Context, e *env, name string) (*store.Store, channel.Settings, error) {
	st, err := e.store(ctx)
	if err != nil {
		return nil, channel.Settings{}, err
	}
	c, err := st.Channel(ctx, name)
	return st, c, err
}

// statusResult is the result of 'orders status': the loop's own status, or,
// when the loop does not run, its run's state and what to do (its last status
// would say "waiting, next run ..." of a loop that will not run).
type statusResult struct {
	contract.OrderSyncState
	// PendingHints counts the state's hints, as 'orders status --json' has
	// always given it.
	PendingHints int     `json:"pending_hints"`
	Run          loopRun `json:"run"`
}

func (r statusResult) text(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if !r.Run.Running {
		fmt.Fprintf(tw, "Channel\t%s\n", r.Channel)
		fmt.Fprintf(tw, "Loop\tnot running: %s\n", r.Run.Sentence())
		fmt.Fprintf(tw, "Next\t%s\n", r.Run.Note)
		_ = tw.Flush()
		return
	}
	state := string(r.State)
	if r.Reason != "" {
		state += ": " + r.Reason
	}
	fmt.Fprintf(tw, "Channel\t%s\n", r.Channel)
	fmt.Fprintf(tw, "State\t%s\n", state)
	fmt.Fprintf(tw, "Loop\t%s\n", r.Phase)
	fmt.Fprintf(tw, "Order Sync Date [UTC]\t%s\n", present.UTC(r.SyncDate))
	fmt.Fprintf(tw, "Last run [UTC]\t%s\n", present.UTC(r.LastRunAt))
	fmt.Fprintf(tw, "Next run [UTC]\t%s (every %s)\n", present.UTC(r.NextRunAt), r.Interval)
	if r.LastResult != nil {
		fmt.Fprintf(tw, "Last result\t%s\n", countsLine(r.LastResult.OrderCounts))
	}
	if r.LastError != "" {
		fmt.Fprintf(tw, "Last error\t%s\n", r.LastError)
	}
	t := r.Totals
	fmt.Fprintf(tw, "Since start\t%d syncs, %d webhook fetches, %d failures: %d new, %d updated, %d skipped, %d quarantined\n",
		t.Syncs, t.HintFetches, t.Failures, t.New, t.Updated, t.Skipped, t.Quarantined)
	fmt.Fprintf(tw, "Pending\t%d webhook hints, %d queued syncs\n", r.PendingHints, r.QueuedSyncs)
	_ = tw.Flush()
}

func ordersStatusCommand() *command {
	return &command{
		name: "status", args: "<channel>", summary: "show the order-sync loop's state, Order Sync Date, last and next run, and counts",
		run: func(ctx context.Context, e *env, _ *flag.FlagSet, args []string) (result, error) {
			if err := needArgs(args, "<channel>"); err != nil {
				return nil, err
			}
			w, err := channelWorkflows(ctx, e, args[0])
			if err != nil {
				return nil, err
			}
			run, err := loopRunOf(ctx, w, workflows.OrderSyncID(args[0]), args[0], true)
			if err != nil {
				return nil, err
			}
			if !run.Running {
				return statusResult{OrderSyncState: contract.OrderSyncState{Channel: args[0]}, Run: run}, nil
			}
			qctx, cancel := context.WithTimeout(ctx, queryWait)
			defer cancel()
			st, err := w.OrderSyncStatus(qctx, args[0])
			var notFound *serviceerror.NotFound
			if err != nil && !errors.As(err, &notFound) && ctx.Err() == nil {
				// The run runs (see above): only a worker can answer for it.
				return nil, fmt.Errorf("the order sync of %s runs but did not answer (%v): is a worker running? Its log says why not", args[0], err)
			}
			if err != nil {
				return nil, loopError(args[0], err)
			}
			return statusResult{OrderSyncState: st, PendingHints: st.PendingHints(), Run: run}, nil
		},
	}
}

// orderList is the result of 'orders list'.
type orderList struct {
	Channel string               `json:"channel"`
	Orders  []store.OrderSummary `json:"orders"`
}

func (r orderList) text(w io.Writer) {
	if len(r.Orders) == 0 {
		fmt.Fprintf(w, "no orders of %s match\n", r.Channel)
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "EKM ID\tNUMBER\tORDER DATE [UTC]\tEKM STATUS\tSTATUS\tPAYMENT\tTOTAL\tLINES\tCUSTOMER")
	for _, o := range r.Orders {
		pay := "paid"
		switch {
		case o.Parked:
			pay = "unpaid, parked"
		case !o.Paid:
			pay = "unpaid"
		}
		status := o.Status
		if o.ShippedOnChannel {
			status += " (on channel)"
		} else if o.CancelledBy != "" {
			status += " (by " + o.CancelledBy + ")"
		}
		lines := strconv.Itoa(o.Lines)
		if o.UnlinkedLines > 0 {
			lines += fmt.Sprintf(" (%d unlinked)", o.UnlinkedLines)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%.2f %s\t%s\t%s\n", o.EKMOrderID, o.OrderNumber, o.OrderDate.UTC().Format(time.DateTime),
			o.EKMStatus, status, pay, o.TotalCost, o.Currency, lines, o.Customer)
	}
	_ = tw.Flush()
}

func ordersListCommand() *command {
	var status, payment, since, until string
	var limit int
	return &command{
		name: "list", args: "<channel>", summary: "list the channel's orders in the hub, newest first",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&status, "status", "", "only orders with this hub status: open, shipped or cancelled")
			fs.StringVar(&payment, "payment", "", "only paid, unpaid or parked orders")
			fs.StringVar(&since, "since", "", "only orders placed at or after this UTC date or time (2006-01-02 or RFC 3339)")
			fs.StringVar(&until, "until", "", "only orders placed before this UTC date or time (a date means the end of that day)")
			fs.IntVar(&limit, "limit", 100, "at most this many orders")
		},
		run: func(ctx context.Context, e *env, _ *flag.FlagSet, args []string) (result, error) {
			if err := needArgs(args, "<channel>"); err != nil {
				return nil, err
			}
			f := store.OrderFilter{Status: status, Payment: payment, Limit: limit}
			switch status {
			case "", "open", "shipped", "cancelled":
			default:
				return nil, usagef("--status %q: want open, shipped or cancelled", status)
			}
			switch payment {
			case "", "paid", "unpaid", "parked":
			default:
				return nil, usagef("--payment %q: want paid, unpaid or parked", payment)
			}
			if limit <= 0 {
				return nil, usagef("--limit must be at least 1")
			}
			var err error
			if f.Since, err = parseWhen("--since", since, false); err != nil {
				return nil, err
			}
			if f.Until, err = parseWhen("--until", until, true); err != nil {
				return nil, err
			}
			st, c, err := channelOf(ctx, e, args[0])
			if err != nil {
				return nil, err
			}
			list, err := st.ListOrders(ctx, c.ID, f)
			if err != nil {
				return nil, err
			}
			if list == nil {
				list = []store.OrderSummary{}
			}
			return orderList{Channel: c.Name, Orders: list}, nil
		},
	}
}

// orderProblemsResult is the result of 'orders problems'.
type orderProblemsResult struct {
	Channel       string               `json:"channel"`
	Quarantined   []store.OrderProblem `json:"quarantined"`
	UnlinkedLines []store.UnlinkedLine `json:"unlinked_lines"`
	// UnmappedDelivery are orders whose EKM delivery method maps to no hub service.
	UnmappedDelivery []store.UnmappedDelivery `json:"unmapped_delivery"`
}

func (r orderProblemsResult) text(w io.Writer) {
	if len(r.Quarantined) == 0 {
		fmt.Fprintln(w, "no quarantined orders")
	} else {
		fmt.Fprintf(w, "%d quarantined orders (re-read on every sync; they come in once the cause is fixed):\n", len(r.Quarantined))
		for _, p := range r.Quarantined {
			fmt.Fprintf(w, "  %s  seen %d× (last %s): %s\n", p.Key, p.Occurrences, p.LastSeenAt.UTC().Format(time.DateTime), p.Reason)
		}
		fmt.Fprintf(w, "after a fix in EKM, 'starter orders backfill %s --ids <id>' brings one in at once\n", r.Channel)
	}
	printUnmappedDelivery(w, r.Channel, r.UnmappedDelivery)
	printUnlinkedLines(w, r.Channel, r.UnlinkedLines)
}

func ordersProblemsCommand() *command {
	var limit int
	return &command{
		name: "problems", args: "<channel>", summary: "list quarantined orders with their reasons, orders whose delivery method is not mapped, and order lines linked to no stock item",
		flags: func(fs *flag.FlagSet) {
			fs.IntVar(&limit, "limit", 200, "at most this many unlinked lines, and this many unmapped orders")
		},
		run: func(ctx context.Context, e *env, _ *flag.FlagSet, args []string) (result, error) {
			if err := needArgs(args, "<channel>"); err != nil {
				return nil, err
			}
			st, c, err := channelOf(ctx, e, args[0])
			if err != nil {
				return nil, err
			}
			res := orderProblemsResult{Channel: c.Name, Quarantined: []store.OrderProblem{}, UnlinkedLines: []store.UnlinkedLine{}}
			if q, err := st.OrderProblems(ctx, c.ID); err != nil {
				return nil, err
			} else if q != nil {
				res.Quarantined = q
			}
			if res.UnmappedDelivery, err = unmappedDelivery(ctx, st, c.ID, limit); err != nil {
				return nil, err
			}
			if u, err := st.UnlinkedLines(ctx, c.ID, limit); err != nil {
				return nil, err
			} else if u != nil {
				res.UnlinkedLines = u
			}
			return res, nil
		},
	}
}

// backfillResult is the result of 'orders backfill'.
type backfillResult struct {
	Channel    string                         `json:"channel"`
	WorkflowID string                         `json:"workflow_id"`
	RunID      string                         `json:"run_id"`
	Done       bool                           `json:"done"`
	Result     *contract.BackfillOrdersResult `json:"result,omitempty"`
}

func (r backfillResult) text(w io.Writer) {
	if !r.Done {
		fmt.Fprintf(w, "back-fill of %s started: workflow %s\nfollow it in the Temporal UI, or run again with --wait\n", r.Channel, r.WorkflowID)
		return
	}
	res := r.Result
	fmt.Fprintf(w, "back-fill of %s done: %s\n", r.Channel, countsLine(res.OrderCounts))
	printCounts(w, res.OrderCounts)
	if len(res.Missing) > 0 {
		fmt.Fprintf(w, "not on EKM: %s\n", joinIDs(res.Missing))
	}
}

func ordersBackfillCommand() *command {
	var from, to, ids string
	var wait bool
	return &command{
		name: "backfill", args: "<channel>",
		summary: "re-read the orders of a date range (--from, --to) or by id (--ids) with the sync's rules, in their own workflow; idempotent, the Order Sync Date does not move",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&from, "from", "", "orders placed at or after this UTC date or time (2006-01-02 or RFC 3339)")
			fs.StringVar(&to, "to", "", "orders placed before this UTC date or time (a date means the end of that day)")
			fs.StringVar(&ids, "ids", "", "EKM order ids, comma-separated, instead of a range")
			fs.BoolVar(&wait, "wait", false, "wait for the back-fill to finish and print what it did")
		},
		run: func(ctx context.Context, e *env, _ *flag.FlagSet, args []string) (result, error) {
			if err := needArgs(args, "<channel>"); err != nil {
				return nil, err
			}
			in := workflows.OrderBackfillInput{Channel: args[0]}
			var err error
			if in.IDs, err = parseIDs(ids); err != nil {
				return nil, err
			}
			if in.From, err = parseWhen("--from", from, false); err != nil {
				return nil, err
			}
			if in.To, err = parseWhen("--to", to, true); err != nil {
				return nil, err
			}
			switch {
			case len(in.IDs) > 0 && (in.From != nil || in.To != nil):
				return nil, usagef("give either --ids or --from/--to, not both")
			case len(in.IDs) == 0 && (in.From == nil || in.To == nil):
				return nil, usagef("give --from and --to, or --ids")
			case len(in.IDs) == 0 && !in.From.Before(*in.To):
				return nil, usagef("--from must be before --to")
			}
			w, err := channelWorkflows(ctx, e, args[0])
			if err != nil {
				return nil, err
			}
			run, err := w.StartOrderBackfill(ctx, in)
			if err != nil {
				return nil, err
			}
			res := backfillResult{Channel: args[0], WorkflowID: run.GetID(), RunID: run.GetRunID()}
			if !wait {
				return res, nil
			}
			var out contract.BackfillOrdersResult
			if err := run.Get(ctx, &out); err != nil {
				return nil, fmt.Errorf("back-fill %s failed: %w", run.GetID(), err)
			}
			res.Done, res.Result = true, &out
			if !out.Ran || out.Status.State != channel.StateOK {
				return res, fmt.Errorf("back-fill did not run: channel %s is %s: %s", args[0], out.Status.State, out.Status.Reason)
			}
			return res, nil
		},
	}
}

// parseIDs reads comma-separated positive order ids.
func parseIDs(s string) ([]int64, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []int64
	for _, part := range strings.Split(s, ",") {
		id, err := strconv.ParseInt(strings.TrimSpace(part), 10, 64)
		if err != nil || id <= 0 {
			return nil, usagef("--ids: %q is not a positive EKM order id", strings.TrimSpace(part))
		}
		out = append(out, id)
	}
	return out, nil
}

// parseWhen reads a UTC date (2006-01-02) or time (RFC 3339, or without zone).
// A date that ends a range (end) means the end of that day.
func parseWhen(flagName, s string, end bool) (*time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	if d, err := time.Parse(time.DateOnly, s); err == nil {
		if end {
			d = d.AddDate(0, 0, 1)
		}
		return &d, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02 15:04"} {
		if t, err := time.Parse(layout, s); err == nil {
			t = t.UTC()
			return &t, nil
		}
	}
	return nil, usagef("%s %q: want a UTC date such as 2024-03-01, or a time such as 2024-03-01T09:30:00Z", flagName, s)
}
