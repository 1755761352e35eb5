package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/contract"
	"github.com/ekmsync/ekmsync/internal/present"
	"github.com/ekmsync/ekmsync/internal/store"
	"github.com/ekmsync/ekmsync/workflows"
)

// listingsCommand is the listings group: start a download (and watch it), see
// its state, list the listings whose SKU keeps them from linking, and link
// listings to stock items whose SKU differs.
func listingsCommand() *command {
	return &command{
		name:    "listings",
		summary: "download the shop's products and variants as listings, or refresh those modified since; see the download's state and the SKU problems; link listings to stock items",
		subs: []*command{listingsDownloadCommand(), listingsRefreshCommand(), listingsStatusCommand(), listingsProblemsCommand(),
			listingsLinkCommand(), listingsUnlinkCommand(), listingsLinksCommand(), listingsUnlinkedCommand()},
	}
}

// downloadResult is what 'listings download' did.
type downloadResult struct {
	Channel        string `json:"channel"`
	WorkflowID     string `json:"workflow_id"`
	RunID          string `json:"run_id"`
	AlreadyRunning bool   `json:"already_running"`
	Note           string `json:"note,omitempty"`
	// Result is the download's outcome, with --wait.
	Result *contract.ListingProgress `json:"result,omitempty"`
}

func (r downloadResult) text(w io.Writer) {
	if r.Note != "" {
		fmt.Fprintf(w, "note: %s\n", r.Note)
	}
	if r.Result != nil {
		fmt.Fprintf(w, "listing download of %s %s: %s\n", r.Channel, r.Result.Phase, r.Result.Message)
		return
	}
	verb := "started"
	if r.AlreadyRunning {
		verb = "already running"
	}
	fmt.Fprintf(w, "listing download of %s %s: workflow %s, run %s\n", r.Channel, verb, r.WorkflowID, r.RunID)
	fmt.Fprintf(w, "watch it with 'starter listings status %s', or start it with --wait for a progress bar\n", r.Channel)
}

func listingsDownloadCommand() *command {
	var wait bool
	var timeout time.Duration
	return &command{
		name: "download", args: "<channel>",
		summary: "start a listing download of the channel, or find the one that runs; --wait shows its progress until it ends",
		flags: func(fs *flag.FlagSet) {
			fs.BoolVar(&wait, "wait", false, "wait for the download to end, with a progress bar (pages, items, estimated completion) on stderr")
			fs.DurationVar(&timeout, "timeout", 0, "with --wait, give up waiting after this long (default: until it ends), "+
				"saying what the download was waiting for (retries, the rate budget, a refusal)")
		},
		run: func(ctx context.Context, e *env, _ *flag.FlagSet, args []string) (result, error) {
			_, c, err := e.channelArg(ctx, args)
			if err != nil {
				return nil, err
			}
			res, err := e.startListingDownload(ctx, c)
			if err != nil || !wait {
				return res, err
			}
			final, err := e.watchListingDownloadFor(ctx, res.WorkflowID, c.Name, timeout)
			if err != nil {
				return nil, err
			}
			res.Result = &final
			if final.Phase != contract.ListingCompleted {
				return res, fmt.Errorf("the listing download of %s did not complete (%s): %s", c.Name, final.Phase, final.Message)
			}
			return res, nil
		},
	}
}

// channelArg reads the channel named by the command's one argument.
func (e *env) channelArg(ctx context.Context, args []string) (*store.Store, channel.Settings, error) {
	if err := needArgs(args, "<channel>"); err != nil {
		return nil, channel.Settings{}, err
	}
	return channelOf(ctx, e, args[0])
}

// startListingDownload starts the channel's download, or finds the running one.
func (e *env) startListingDownload(ctx context.Context, c channel.Settings) (downloadResult, error) {
	wf, err := e.workflows(ctx)
	if err != nil {
		return downloadResult{}, err
	}
	res := downloadResult{Channel: c.Name, WorkflowID: workflows.ListingDownloadID(c.Name)}
	if s := c.Status(); s.State == channel.StateDisabled || s.State == channel.StateNeedsReauth {
		res.Note = s.Reason
	}
	desc, err := wf.Client.DescribeWorkflowExecution(ctx, res.WorkflowID, "")
	var notFound *serviceerror.NotFound
	switch {
	case err == nil && desc.GetWorkflowExecutionInfo().GetStatus() == enums.WORKFLOW_EXECUTION_STATUS_RUNNING:
		res.AlreadyRunning, res.RunID = true, desc.GetWorkflowExecutionInfo().GetExecution().GetRunId()
		return res, nil
	case err != nil && !errors.As(err, &notFound):
		return res, fmt.Errorf("ask Temporal about %s: %w", res.WorkflowID, err)
	}
	// Started with USE_EXISTING: a download started meanwhile is returned, not doubled.
	run, err := wf.StartListingDownload(ctx, c.Name)
	if err != nil {
		return res, fmt.Errorf("start the listing download: %w", err)
	}
	res.RunID = run.GetRunID()
	return res, nil
}

// watchListingDownload shows the download's progress (its progress query) until it
// ends, following continue-as-new, and returns its result.
func (e *env) watchListingDownload(ctx context.Context, id string) (contract.ListingProgress, error) {
	wf, err := e.workflows(ctx)
	if err != nil {
		return contract.ListingProgress{}, err
	}
	var res contract.ListingProgress
	done := make(chan error, 1)
	go func() { done <- wf.Client.GetWorkflow(ctx, id, "").Get(ctx, &res) }()
	bar := newProgressBar(e.io.Stderr)
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			if err != nil {
				bar.end()
				return res, fmt.Errorf("waiting for %s: %w", id, err)
			}
			bar.show(res, time.Now())
			bar.end()
			return res, nil
		case <-tick.C:
			qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			v, err := wf.Client.QueryWorkflow(qctx, id, "", workflows.QueryProgress)
			cancel()
			var p contract.ListingProgress
			if err == nil && v.Get(&p) == nil {
				bar.show(p, time.Now())
			}
		case <-ctx.Done():
			bar.end()
			return res, ctx.Err()
		}
	}
}

// listingStatus is the channel's listing download as 'listings status' shows it:
// the hub's state (committed page by page), the listings, and the workflow.
type listingStatus struct {
	Channel string `json:"channel"`
	store.ListingDownloadState
	Listings store.ListingCounts `json:"listings"`
	// Refresh is the listing refresh between downloads: its last run and cursor.
	Refresh  store.ListingRefresh `json:"refresh"`
	Workflow *listingRun          `json:"workflow,omitempty"`
	Note     string               `json:"note,omitempty"`
}

// listingRun is the latest run of the channel's download workflow.
type listingRun struct {
	ID      string                `json:"id"`
	RunID   string                `json:"run_id"`
	Status  string                `json:"status"` // Temporal's: Running, Completed, Terminated...
	Phase   contract.ListingPhase `json:"phase,omitempty"`
	Message string                `json:"message,omitempty"`
}

func (r listingStatus) text(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "Channel\t%s\n", r.Channel)
	fmt.Fprintf(tw, "Listing Download in Progress\t%s\n", yesNo(r.InProgress))
	fmt.Fprintf(tw, "Listing Download Start Time\t%s\n", present.UTC(r.StartTime))
	fmt.Fprintf(tw, "Listing Download Completion Time\t%s\n", present.UTC(r.CompletionTime))
	fmt.Fprintf(tw, "Listing Download Estimated Completion\t%s\n", present.ETA(contract.ListingDownloadState(r.ListingDownloadState), time.Now()))
	if r.PagesTotal != nil {
		fmt.Fprintf(tw, "Pages\t%d of %d\n", r.PagesDone, *r.PagesTotal)
	}
	if r.ProductsTotal != nil {
		fmt.Fprintf(tw, "Products in the shop\t%d\n", *r.ProductsTotal)
	}
	fmt.Fprintf(tw, "Listings seen\t%d (%d empty and %d duplicate SKUs)\n", r.ListingsSeen, r.EmptySKUs, r.DuplicateSKUs)
	if r.BadProducts > 0 {
		fmt.Fprintf(tw, "Products that could not be read\t%d (see 'starter channel show %s')\n", r.BadProducts, r.Channel)
	}
	fmt.Fprintf(tw, "Last outcome\t%s\n", present.OrDash(r.LastOutcome))
	l := r.Listings
	fmt.Fprintf(tw, "Listings\t%d live (%d linked to a stock item, %d of them by a link), %d removed\n", l.Live, l.Linked, l.Links, l.Removed)
	fmt.Fprintf(tw, "Last listing refresh\t%s\n", refreshLine(r.Channel, r.Refresh))
	if wf := r.Workflow; wf != nil {
		line := wf.Status + " (" + wf.ID + ")"
		if wf.Message != "" {
			line += ": " + wf.Message
		}
		fmt.Fprintf(tw, "Workflow\t%s\n", line)
	}
	_ = tw.Flush()
	if r.Note != "" {
		fmt.Fprintf(w, "note: %s\n", r.Note)
	}
	switch n := l.EmptySKUs + l.DuplicateSKUs; {
	case n == 1:
		fmt.Fprintf(w, "1 listing has an SKU problem: see 'starter listings problems %s'\n", r.Channel)
	case n > 1:
		fmt.Fprintf(w, "%d listings have an SKU problem: see 'starter listings problems %s'\n", n, r.Channel)
	}
}

func listingsStatusCommand() *command {
	return &command{
		name: "status", args: "<channel>",
		summary: "show the listing download: in progress, start, completion and estimated completion, pages, listings, SKU problems;\n" +
			"and the last listing refresh",
		run: func(ctx context.Context, e *env, _ *flag.FlagSet, args []string) (result, error) {
			st, c, err := e.channelArg(ctx, args)
			if err != nil {
				return nil, err
			}
			res := listingStatus{Channel: c.Name}
			if res.ListingDownloadState, err = st.ListingDownload(ctx, c.ID); err != nil {
				return nil, err
			}
			if res.Listings, err = st.CountListings(ctx, c.ID); err != nil {
				return nil, err
			}
			if res.Refresh, err = st.ListingRefreshOf(ctx, c.ID); err != nil {
				return nil, err
			}
			res.Workflow, res.Note = e.listingRun(ctx, c.Name, res.InProgress)
			return res, nil
		},
	}
}

// listingRun describes the channel's download workflow, and asks a running one
// what it is doing. Temporal out of reach is a note, not a failure: the hub's
// state stands on its own.
func (e *env) listingRun(ctx context.Context, name string, inProgress bool) (*listingRun, string) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	wf, err := e.workflows(ctx)
	if err != nil {
		return nil, "could not reach Temporal: " + err.Error()
	}
	id := workflows.ListingDownloadID(name)
	desc, err := wf.Client.DescribeWorkflowExecution(ctx, id, "")
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		if inProgress {
			return nil, "the hub says a download is in progress but no workflow runs: it was interrupted; 'starter listings download " + name + "' starts a new one"
		}
		return nil, ""
	}
	if err != nil {
		return nil, "could not ask Temporal about " + id + ": " + err.Error()
	}
	info := desc.GetWorkflowExecutionInfo()
	run := &listingRun{ID: id, RunID: info.GetExecution().GetRunId(), Status: statusName(info.GetStatus())}
	if info.GetStatus() != enums.WORKFLOW_EXECUTION_STATUS_RUNNING {
		if inProgress {
			return run, "the hub says a download is in progress but its workflow is " + run.Status + ": it was interrupted; 'starter listings download " + name + "' starts a new one"
		}
		return run, ""
	}
	if v, err := wf.Client.QueryWorkflow(ctx, id, "", workflows.QueryProgress); err == nil {
		var p contract.ListingProgress
		if v.Get(&p) == nil {
			run.Phase, run.Message = p.Phase, p.Message
		}
	}
	return run, ""
}

// statusName is Temporal's workflow status as the Web UI names it.
func statusName(s enums.WorkflowExecutionStatus) string {
	name := s.String()
	if len(name) > 1 {
		name = name[:1] + strings.ToLower(name[1:])
	}
	return name
}

// listingProblemsResult is the listings whose SKU keeps them from linking to a
// stock item, and the products the latest downloads could not store.
type listingProblemsResult struct {
	Channel       string                 `json:"channel"`
	EmptySKUs     int                    `json:"empty_skus"`
	DuplicateSKUs int                    `json:"duplicate_skus"`
	Problems      []store.ListingProblem `json:"problems"`
	// Products are the products that could not be stored, with the reason.
	Products []store.ProductProblem `json:"product_problems"`
}

func (r listingProblemsResult) text(w io.Writer) {
	if len(r.Products) > 0 {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "PRODUCT\tLAST SEEN\tREASON")
		for _, p := range r.Products {
			product := p.Key
			if p.ProductID != nil {
				product = fmt.Sprint(*p.ProductID)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\n", product, p.LastSeenAt.UTC().Format(time.RFC3339), p.Reason)
		}
		_ = tw.Flush()
		fmt.Fprintf(w, "%d products could not be stored: they have no listing, and a download that meets one removes nothing.\n"+
			"Fix them in EKM (or ask EKM why they cannot be read), then run 'starter listings download %s'.\n\n",
			len(r.Products), r.Channel)
	}
	if len(r.Problems) == 0 {
		fmt.Fprintf(w, "no SKU problems on %s's live listings\n", r.Channel)
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PROBLEM\tSKU\tPRODUCT\tVARIANT\tNAME")
	for _, p := range r.Problems {
		variant, name := "-", p.Name
		if p.VariantID != 0 {
			variant, name = fmt.Sprint(p.VariantID), name+" ("+p.VariantName+")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", p.Problem, present.OrDash(p.SKU), p.ProductID, variant, name)
	}
	_ = tw.Flush()
	fmt.Fprintf(w, "%d with an empty SKU, %d sharing an SKU: they are not linked to stock items, so no stock or price is pushed to them.\n"+
		"Give each a unique SKU in EKM, then run 'starter listings download %s', or link each to a stock item with\n"+
		"'starter listings link %s <product id>[/<variant id>] <stock-sku>'.\n", r.EmptySKUs, r.DuplicateSKUs, r.Channel, r.Channel)
}

func listingsProblemsCommand() *command {
	return &command{
		name: "problems", args: "<channel>",
		summary: "list the products the latest downloads could not store (with the reason) and the live listings with an empty or duplicate SKU and no link (not linked to stock items)",
		run: func(ctx context.Context, e *env, _ *flag.FlagSet, args []string) (result, error) {
			st, c, err := e.channelArg(ctx, args)
			if err != nil {
				return nil, err
			}
			problems, err := st.ListingProblems(ctx, c.ID)
			if err != nil {
				return nil, err
			}
			products, err := st.ProductProblems(ctx, c.ID)
			if err != nil {
				return nil, err
			}
			res := listingProblemsResult{Channel: c.Name, Problems: problems, Products: products}
			if res.Problems == nil {
				res.Problems = []store.ListingProblem{}
			}
			if res.Products == nil {
				res.Products = []store.ProductProblem{}
			}
			for _, p := range problems {
				if p.Problem == "empty" {
					res.EmptySKUs++
				} else {
					res.DuplicateSKUs++
				}
			}
			return res, nil
		},
	}
}
