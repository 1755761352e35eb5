package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/contract"
	"github.com/ekmsync/ekmsync/internal/present"
	"github.com/ekmsync/ekmsync/internal/store"
	"github.com/ekmsync/ekmsync/workflows"
)

func pushCommand() *command {
	return &command{name: "push", summary: "the outbound push to EKM: what is pending, held, failed and sent; push now",
		subs: []*command{pushStatusCommand(), pushNowCommand(), pushPlanCommand()}}
}

// pushNowResult is the result of 'push now'.
type pushNowResult struct {
	Channel string                 `json:"channel"`
	Result  contract.PushNowResult `json:"result"`
}

func (r pushNowResult) text(w io.Writer) {
	if !r.Result.Ran {
		fmt.Fprintf(w, "no pass ran: %s\n", present.OrDash(r.Result.ChannelState.Reason))
		return
	}
	p := r.Result.Pass
	fmt.Fprintf(w, "pass of channel %s done in %s\n", r.Channel, p.Ended.Sub(p.Started).Round(time.Millisecond))
	for _, s := range []struct {
		name string
		r    contract.StepResult
	}{{"despatches", p.Despatches}, {"cancellations", p.Cancellations}, {"stock", p.Stock}, {"prices", p.Prices}} {
		fmt.Fprintf(w, "  %-14s sent %d, already on EKM %d, not sent %d, failed %d", s.name, s.r.Sent, s.r.Already, s.r.NotSent, s.r.Failed)
		if s.r.WouldSend > 0 {
			fmt.Fprintf(w, ", would send %d (shadow mode: 'push plan')", s.r.WouldSend)
		}
		if s.r.UrgentStock > 0 {
			fmt.Fprintf(w, ", and %d stock levels at or near zero while despatches were left", s.r.UrgentStock)
		}
		if s.r.Held > 0 {
			fmt.Fprintf(w, ", held %d (%s)", s.r.Held, s.r.HeldReason)
		}
		if s.r.Busy > 0 {
			fmt.Fprintf(w, ", busy %d (another attempt of the push holds them; it sends them, or the next pass does)", s.r.Busy)
		}
		fmt.Fprintln(w)
	}
	if p.More {
		fmt.Fprintln(w, "more work is left: the next pass follows at once")
	}
	if p.Error != "" {
		fmt.Fprintf(w, "the pass stopped: %s\n", p.Error)
	}
}

func pushNowCommand() *command {
	var timeout time.Duration
	return &command{
		name: "now", args: "<channel>",
		summary: "run a pass of the channel's push at once (despatches, cancellations, stock, prices) and show what it did",
		flags: func(fs *flag.FlagSet) {
			fs.DurationVar(&timeout, "timeout", 2*time.Minute, "how long to wait for the pass")
		},
		run: func(ctx context.Context, e *env, _ *flag.FlagSet, args []string) (result, error) {
			if err := needArgs(args, "<channel>"); err != nil {
				return nil, err
			}
			c, err := e.client(ctx)
			if err != nil {
				return nil, err
			}
			ctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: workflows.ChannelPushID(args[0]),
				UpdateName: workflows.UpdatePushNow, WaitForStage: client.WorkflowUpdateStageCompleted})
			if err != nil {
				return nil, fmt.Errorf("the push loop of %s did not take the request (%w); 'starter channel enable %s' starts it", args[0], err, args[0])
			}
			var res contract.PushNowResult
			if err := h.Get(ctx, &res); err != nil {
				return nil, fmt.Errorf("push now: %w", err)
			}
			if !res.Ran {
				// The exit-code rule (docs/cli.md): an operation that could not run exits 1.
				return pushNowResult{Channel: args[0], Result: res}, fmt.Errorf("no pass ran: channel %s is %s: %s",
					args[0], present.OrDash(string(res.ChannelState.State)), present.OrDash(res.ChannelState.Reason))
			}
			return pushNowResult{Channel: args[0], Result: res}, nil
		},
	}
}

// pushStatus is the result of 'push status'.
type pushStatus struct {
	Channel string `json:"channel"`
	// Mode is the channel's mode; in shadow, Plan is what it would send.
	Mode string               `json:"mode"`
	Plan []store.PlannedWrite `json:"plan,omitempty"`
	// Loop is the push workflow's own status; LoopError says why it could not
	// be read (Temporal unreachable, loop not running).
	Loop      *contract.PushState `json:"loop,omitempty"`
	LoopError string              `json:"loop_error,omitempty"`
	// Run is the push loop's latest run: a loop that does not run says so here,
	// with what happens next, and has no Loop status.
	Run           *loopRun    `json:"run,omitempty"`
	Despatches    orderPush   `json:"despatches"`
	Cancellations orderPush   `json:"cancellations"`
	Stock         listingPush `json:"stock"`
	Prices        listingPush `json:"prices"`
	// Listings holds every linked listing's results, with --listings.
	Listings []listingResult `json:"listings,omitempty"`
}

type orderPush struct {
	Counts store.OrderCounts `json:"counts"`
	// Off says why nothing is sent, when the channel's settings hold it.
	Off      string              `json:"off,omitempty"`
	Held     []store.OrderRecord `json:"held"`
	Failed   []store.OrderRecord `json:"failed"`
	LastSent []store.OrderRecord `json:"last_sent"`
}

type listingPush struct {
	Off      string          `json:"off,omitempty"`
	Listings int             `json:"listings"`
	Pending  int             `json:"pending"`
	Failed   int             `json:"failed"`
	Failures []listingResult `json:"failures"`
	LastSent []listingResult `json:"last_sent"`
}

// listingResult is one listing's stock or price, or both (--listings).
type listingResult struct {
	store.ListingKey
	SKU   string       `json:"sku"`
	Stock *valueResult `json:"stock,omitempty"`
	Price *valueResult `json:"price,omitempty"`
}

// valueResult is a listing's stock or price: wanted, confirmed, and the last send.
type valueResult struct {
	Desired   string `json:"desired"`
	Confirmed string `json:"confirmed"`
	Pending   bool   `json:"pending"`
	store.SendState
}

func pushStatusCommand() *command {
	var listings bool
	var limit int
	return &command{
		name: "status", args: "<channel>",
		summary: "show the channel's outbound push: despatches, cancellations, stock and prices pending, held, failed\n" +
			"and last sent, and with --listings every listing's result (sent, confirmed, error, attempts)",
		flags: func(fs *flag.FlagSet) {
			fs.BoolVar(&listings, "listings", false, "list every linked listing's stock and price result")
			fs.IntVar(&limit, "limit", 10, "how many held, failed and sent entries to list per kind")
		},
		run: func(ctx context.Context, e *env, _ *flag.FlagSet, args []string) (result, error) {
			if err := needArgs(args, "<channel>"); err != nil {
				return nil, err
			}
			if limit < 1 {
				return nil, usagef("--limit must be 1 or more")
			}
			st, s, err := channelOf(ctx, e, args[0])
			if err != nil {
				return nil, err
			}
			res := pushStatus{Channel: s.Name, Mode: channel.ModeName(s.Shadow)}
			if s.Shadow {
				if res.Plan, err = st.Plan(ctx, s.ID); err != nil {
					return nil, err
				}
			}
			if res.Despatches, res.Cancellations, err = orderPushes(ctx, st, s, limit); err != nil {
				return nil, err
			}
			if err := listingPushes(ctx, st, s, limit, listings, &res); err != nil {
				return nil, err
			}
			res.Run, res.Loop, res.LoopError = e.pushLoop(ctx, s.Name)
			return res, nil
		},
	}
}

// orderPushes reads the order ledger of s.
func orderPushes(ctx context.Context, st *store.Store, s channel.Settings, limit int) (despatch, cancel orderPush, err error) {
	counts, err := st.OrderOutboundCounts(ctx, s.ID)
	if err != nil {
		return despatch, cancel, err
	}
	despatch = orderPush{Counts: counts[store.KindDespatch], Off: s.DespatchHold()}
	cancel = orderPush{Counts: counts[store.KindCancellation], Off: s.CancellationHold()}
	for _, which := range []string{store.RecordsHeld, store.RecordsFailed, store.RecordsDone} {
		recs, err := st.OrderRecords(ctx, s.ID, which, 2*limit)
		if err != nil {
			return despatch, cancel, err
		}
		for _, r := range recs {
			p := &despatch
			if r.Kind == store.KindCancellation {
				p = &cancel
			}
			list := map[string]*[]store.OrderRecord{store.RecordsHeld: &p.Held, store.RecordsFailed: &p.Failed, store.RecordsDone: &p.LastSent}[which]
			if len(*list) < limit {
				*list = append(*list, r)
			}
		}
	}
	for _, p := range []*orderPush{&despatch, &cancel} {
		for _, l := range []*[]store.OrderRecord{&p.Held, &p.Failed, &p.LastSent} {
			if *l == nil {
				*l = []store.OrderRecord{}
			}
		}
	}
	return despatch, cancel, nil
}

// listingPushes reads the stock and price plans of s, as the push computes them.
func listingPushes(ctx context.Context, st *store.Store, s channel.Settings, limit int, all bool, res *pushStatus) error {
	now := time.Now()
	stock, err := st.StockPlan(ctx, s)
	if err != nil {
		return err
	}
	prices, err := st.PricePlan(ctx, s.ID)
	if err != nil {
		return err
	}
	byKey := map[store.ListingKey]*listingResult{}
	entry := func(k store.ListingKey, sku string) *listingResult {
		if r, ok := byKey[k]; ok {
			return r
		}
		r := &listingResult{ListingKey: k, SKU: sku}
		byKey[k] = r
		return r
	}
	var stockRes, priceRes []listingResult
	for _, l := range stock {
		v := &valueResult{Desired: fmt.Sprint(l.Desired), Confirmed: optInt(l.Confirmed), Pending: l.Pending(now), SendState: l.SendState}
		entry(l.ListingKey, l.SKU).Stock = v
		stockRes = append(stockRes, listingResult{ListingKey: l.ListingKey, SKU: l.SKU, Stock: v})
	}
	for _, l := range prices {
		v := &valueResult{Desired: l.Desired.String(), Confirmed: optPennies(l.Confirmed), Pending: l.Pending(now), SendState: l.SendState}
		entry(l.ListingKey, l.SKU).Price = v
		priceRes = append(priceRes, listingResult{ListingKey: l.ListingKey, SKU: l.SKU, Price: v})
	}
	res.Stock = summarise(stockRes, limit, func(r listingResult) *valueResult { return r.Stock })
	res.Prices = summarise(priceRes, limit, func(r listingResult) *valueResult { return r.Price })
	if !s.UpdateInventory {
		res.Stock.Off = "Update Inventory is off"
	}
	if !s.PriceChange {
		res.Prices.Off = "Price Change is off"
	}
	if all {
		res.Listings = make([]listingResult, 0, len(byKey))
		for _, r := range byKey {
			res.Listings = append(res.Listings, *r)
		}
		sort.Slice(res.Listings, func(i, j int) bool {
			a, b := res.Listings[i], res.Listings[j]
			return a.ProductID < b.ProductID || (a.ProductID == b.ProductID && a.VariantID < b.VariantID)
		})
	}
	return nil
}

// summarise counts one value's results and lists the latest failures and sends.
func summarise(rs []listingResult, limit int, value func(listingResult) *valueResult) listingPush {
	p := listingPush{Listings: len(rs), Failures: []listingResult{}, LastSent: []listingResult{}}
	var sent []listingResult
	for _, r := range rs {
		v := value(r)
		if v.Pending {
			p.Pending++
		}
		if v.Error != "" {
			p.Failed++
			if len(p.Failures) < limit {
				p.Failures = append(p.Failures, r)
			}
		}
		if v.SentAt != nil {
			sent = append(sent, r)
		}
	}
	sort.SliceStable(sent, func(i, j int) bool { return value(sent[i]).SentAt.After(*value(sent[j]).SentAt) })
	p.LastSent = append(p.LastSent, sent[:min(limit, len(sent))]...)
	return p
}

// pushLoop reads the push loop's run state and, while it runs, asks it for its
// status.
func (e *env) pushLoop(ctx context.Context, name string) (*loopRun, *contract.PushState, string) {
	w, err := e.workflows(ctx)
	if err != nil {
		return nil, nil, err.Error()
	}
	run, err := loopRunOf(ctx, w, workflows.ChannelPushID(name), name, true)
	if err != nil {
		return nil, nil, err.Error()
	}
	if !run.Running {
		return &run, nil, "the push loop is not running"
	}
	qctx, cancel := context.WithTimeout(ctx, queryWait)
	defer cancel()
	v, err := w.Client.QueryWorkflow(qctx, workflows.ChannelPushID(name), "", workflows.QueryStatus)
	if err != nil {
		return &run, nil, fmt.Sprintf("the push loop runs but did not answer (%v): is a worker running?", err)
	}
	var ps contract.PushState
	if err := v.Get(&ps); err != nil {
		return &run, nil, err.Error()
	}
	return &run, &ps, ""
}

func (r pushStatus) text(w io.Writer) {
	fmt.Fprintf(w, "Push of channel %s\n", r.Channel)
	if r.Mode == channel.ModeShadow {
		fmt.Fprintf(w, "Mode: shadow: nothing is sent to EKM; %d writes would be sent ('starter push plan %s' lists them with their reasons)\n", len(r.Plan), r.Channel)
	}
	if r.Loop != nil {
		l := r.Loop
		state := l.State
		if l.ChannelState.Reason != "" {
			state += ": " + l.ChannelState.Reason
		}
		fmt.Fprintf(w, "Loop: %s; %d passes", state, l.Passes)
		if l.Last != nil {
			fmt.Fprintf(w, "; last pass %s", l.Last.Ended.UTC().Format(time.DateTime))
			if l.Last.Error != "" {
				fmt.Fprintf(w, " (stopped: %s)", l.Last.Error)
			}
		}
		fmt.Fprintln(w)
	} else if r.Run != nil && !r.Run.Running {
		fmt.Fprintf(w, "Loop: not running: %s\n", r.Run.runLine())
	} else {
		fmt.Fprintf(w, "Loop: unknown (%s)\n", r.LoopError)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\tPENDING\tHELD\tFAILED\tDONE\tNOTE")
	for _, o := range []struct {
		name string
		p    orderPush
	}{{"Despatches", r.Despatches}, {"Cancellations", r.Cancellations}} {
		c, note := o.p.Counts, o.p.Off
		if c.Waiting > 0 {
			note = fmt.Sprintf("%d shipped without parcels yet", c.Waiting)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%s\n", o.name, c.Pending, c.Held, c.Failed, c.Done, note)
	}
	for _, l := range []struct {
		name string
		p    listingPush
	}{{"Stock", r.Stock}, {"Prices", r.Prices}} {
		fmt.Fprintf(tw, "%s\t%d\t-\t%d\t%d listings\t%s\n", l.name, l.p.Pending, l.p.Failed, l.p.Listings, l.p.Off)
	}
	_ = tw.Flush()
	for _, o := range []struct {
		name string
		p    orderPush
	}{{"despatch", r.Despatches}, {"cancellation", r.Cancellations}} {
		for _, rec := range o.p.Held {
			fmt.Fprintf(w, "held %s: order %s (%s:%d): %s\n", o.name, rec.OrderNumber, r.Channel, rec.EKMOrderID, rec.HeldReason)
		}
		for _, rec := range o.p.Failed {
			fmt.Fprintf(w, "failed %s: order %s (%s:%d), %d attempts: %s\n", o.name, rec.OrderNumber, r.Channel, rec.EKMOrderID, rec.Attempts, rec.LastError)
		}
		for _, rec := range o.p.LastSent {
			fmt.Fprintf(w, "%s %s: order %s (%s:%d): %s\n", o.name, present.UTC(rec.DoneAt), rec.OrderNumber, r.Channel, rec.EKMOrderID, rec.Outcome)
		}
	}
	for _, l := range []struct {
		name string
		p    listingPush
		v    func(listingResult) *valueResult
	}{{"stock", r.Stock, func(x listingResult) *valueResult { return x.Stock }}, {"price", r.Prices, func(x listingResult) *valueResult { return x.Price }}} {
		for _, f := range l.p.Failures {
			v := l.v(f)
			fmt.Fprintf(w, "failed %s: %s (%d/%d) %s, %d attempts: %s\n", l.name, f.SKU, f.ProductID, f.VariantID, v.Desired, v.Attempts, v.Error)
		}
		for _, s := range l.p.LastSent {
			v := l.v(s)
			fmt.Fprintf(w, "%s %s: %s (%d/%d) confirmed %s\n", l.name, present.UTC(v.SentAt), s.SKU, s.ProductID, s.VariantID, v.Confirmed)
		}
	}
	for i, p := range r.Plan {
		if i == 10 {
			fmt.Fprintf(w, "... and %d more ('starter push plan %s')\n", len(r.Plan)-i, r.Channel)
			break
		}
		fmt.Fprintf(w, "would send %s: %s %s to %s: %s\n", p.Kind, p.Subject, p.Write, p.Target, p.Reason)
	}
	if len(r.Listings) > 0 {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SKU\tPRODUCT\tVARIANT\tSTOCK\tCONFIRMED\tSENT\tATTEMPTS\tPRICE\tCONFIRMED\tSENT\tATTEMPTS\tERRORS")
		for _, l := range r.Listings {
			var errs []string
			for _, v := range []struct {
				name string
				v    *valueResult
			}{{"stock", l.Stock}, {"price", l.Price}} {
				if v.v != nil && v.v.Error != "" {
					errs = append(errs, v.name+": "+v.v.Error)
				}
			}
			fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\n", l.SKU, l.ProductID, l.VariantID, valueColumns(l.Stock), valueColumns(l.Price), strings.Join(errs, "; "))
		}
		_ = tw.Flush()
	}
}

// valueColumns writes a value's four columns for the --listings table.
func valueColumns(v *valueResult) string {
	if v == nil {
		return "-\t-\t-\t-"
	}
	mark := ""
	if v.Pending {
		mark = " (pending)"
	}
	return fmt.Sprintf("%s%s\t%s\t%s\t%d", v.Desired, mark, present.OrDash(v.Confirmed), present.UTC(v.SentAt), v.Attempts)
}

func optInt(p *int64) string {
	if p == nil {
		return ""
	}
	return fmt.Sprint(*p)
}

func optPennies(p *store.Pennies) string {
	if p == nil {
		return ""
	}
	return p.String()
}
