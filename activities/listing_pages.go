package activities

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptrace"
	"sync/atomic"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/ekm"
	"github.com/ekmsync/ekmsync/internal/store"
)

// Tuning of DownloadListingPages.
const (
	// DefaultListingSlice is how long one call fetches pages before it returns, so
	// that the workflow refreshes its progress, search attributes and details.
	DefaultListingSlice = 5 * time.Second
	// listingPrefetch is how many fetched pages may wait for their commit, so
	// that the fetch of the next pages overlaps the commit of the last. A worker
	// killed mid-download has fetched at most ListingUncommittedMax pages that it
	// did not commit: those it was committing, those waiting, one in flight.
	listingPrefetch = 3
	// listingBudgetWait is how long past the slice a page may wait for rate budget
	// (orders and stock go first) before the call returns without it, saying so.
	listingBudgetWait = 30 * time.Second
	// listingGroup is the most fetched pages committed in one transaction, when
	// the writer has fallen behind the fetcher.
	listingGroup = listingPrefetch + 1
	// ListingUncommittedMax bounds the pages a killed worker fetched without
	// committing them: the pages a retry fetches again.
	ListingUncommittedMax = listingGroup + listingPrefetch + 1
	// listingSmoothing weighs each page's work time into the running estimate.
	listingSmoothing = 0.2
	// listingSlicesPerSecond bounds how many default slices a second the
	// downloads in progress end together, across every worker (listingSlice).
	listingSlicesPerSecond = 10
	// listingSliceMax bounds the stretched slice, well inside the page
	// activity's start-to-close timeout with a budget wait after it.
	listingSliceMax = time.Minute
)

// listingSlice is how long a call fetches: the slice the workflow asked for, or
// by default DefaultListingSlice, stretched while many downloads are in
// progress so that together they end at most listingSlicesPerSecond slices a
// second. Each slice ends in an activity completion and a workflow task, about
// six writes on the Temporal server: 200 downloads at 5 s would cost it 40
// slices a second whatever their shops' pace, and the many-shops benchmark saw
// the webhooks' order fetches queue behind them. The count is the hub's, not
// one process's: three workers counting their own each ended 10 a second, and
// the benchmark's second phase (500 downloads on three workers) swamped the
// dev server. With 200 in progress, a slice is 20 s, the longest a download's
// progress then waits to be taken in; never more than listingSliceMax.
func listingSlice(asked time.Duration, running int64) time.Duration {
	if asked > 0 {
		return asked
	}
	return min(listingSliceMax, max(DefaultListingSlice, time.Duration(running)*time.Second/listingSlicesPerSecond))
}

// DownloadListingPages fetches and commits the generation's pages, in order, from
// the page after the last one committed, for about one slice. Each page is written
// to the hub in one transaction, then its number is heartbeaten; a retry after a
// crash resumes after the last committed page, so at most the few pages fetched
// ahead are fetched again. Requests go at listing priority: orders and stock first.
// A disabled channel or rejected consent stops it with a non-retryable error.
func (a *Activities) DownloadListingPages(ctx context.Context, in ListingPagesInput) (ListingPagesResult, error) {
	res := ListingPagesResult{PerPage: in.PerPage}
	s, err := a.settings(ctx, in.Channel)
	if err != nil {
		return res, err
	}
	res.Status = s.Status()
	if err := listingGate(res.Status); err != nil {
		return res, err
	}
	if res.State, err = listingState(a.Store.ListingDownload(ctx, s.ID)); err != nil {
		return res, err
	}
	if res.State.Generation != in.Generation || !res.State.InProgress {
		return res, listingSuperseded(fmt.Errorf("%w: generation %d, current %d", store.ErrListingGeneration, in.Generation, res.State.Generation))
	}
	if res.State.AllPagesDone() {
		return res, nil
	}
	client, err := a.Shop.Client(ctx, s)
	if err != nil {
		return res, err
	}
	run := &pageRun{acts: a, channelID: s.ID, in: in, client: client, res: &res}
	run.committed.Store(int64(res.State.PagesDone))
	running, err := a.Store.ListingDownloadsInProgress(ctx)
	if err != nil {
		return res, err
	}
	run.slice = listingSlice(in.Slice, running)
	err = run.download(ctx)
	if err != nil && ctx.Err() == nil {
		_ = a.Store.RecordError(context.WithoutCancel(ctx), s.ID, "listings", "listing download: "+reason(err))
	}
	return res, listingSuperseded(classify(err))
}

// pageRun is one call of DownloadListingPages: a fetcher that requests pages in
// order, a little ahead, and a writer that commits them in order.
type pageRun struct {
	acts      *Activities
	channelID int64
	in        ListingPagesInput
	client    *ekm.Client
	res       *ListingPagesResult
	slice     time.Duration // how long to keep fetching (listingSlice)
	committed atomic.Int64  // the last committed page, for the heartbeat
	requested atomic.Int64  // the last page requested, for the estimate
}

// fetchedPage is one page as the fetcher got it, turned into listings.
type fetchedPage struct {
	page     ekm.Page[json.RawMessage]
	listings []store.Listing
	bad      []error                // products that could not be read
	problems []store.ProductProblem // every product of the page that could not be stored
	last     bool                   // no page follows
	at       time.Time              // when it was requested
	work     time.Duration          // the exchange and the decoding, budget waits excluded
	err      error
}

func (r *pageRun) download(ctx context.Context) error {
	slice := r.slice
	fetchCtx, cancel := context.WithCancel(ekm.WithPriority(ctx, ekm.PriorityListings))
	pages := make(chan fetchedPage, listingPrefetch)
	defer func() {
		cancel()
		for range pages { // the fetcher has stopped once it closes pages
		}
	}()
	first := int(r.committed.Load()) + 1
	go r.fetch(fetchCtx, first, time.Now().Add(slice), pages)
	defer keepAlive(ctx, &r.committed)()
	for f := range pages {
		group := r.take(f, pages)
		if err := r.commit(ctx, group); err != nil {
			return err
		}
		if last := group[len(group)-1]; last.err != nil {
			return last.err
		}
	}
	return ctx.Err()
}

// take gathers f and the pages already waiting behind it, up to listingGroup and
// up to the first that failed: they are committed together.
func (r *pageRun) take(f fetchedPage, pages <-chan fetchedPage) []fetchedPage {
	group := []fetchedPage{f}
	for len(group) < listingGroup && f.err == nil {
		select {
		case next, ok := <-pages:
			if !ok {
				return group
			}
			f = next
			group = append(group, f)
		default:
			return group
		}
	}
	return group
}

// fetch requests pages from first on until the slice ends (always at least one),
// the last page, an error, or a page that waited too long for budget.
func (r *pageRun) fetch(ctx context.Context, first int, end time.Time, out chan<- fetchedPage) {
	defer close(out)
	var prev []json.RawMessage
	for n := first; n == first || time.Now().Before(end); n++ {
		waitCtx, stop := context.WithDeadline(ctx, end.Add(listingBudgetWait))
		f := r.fetchPage(waitCtx, n)
		stop()
		if f.err != nil && ctx.Err() == nil && waitCtx.Err() != nil {
			r.res.Starved = true // the slice ends here; the workflow asks again
			return
		}
		if f.err == nil && samePage(prev, f.page.Items) {
			// A stale or stuck answer: committing it would count its products
			// twice, and asking on would walk pages_total (up to 2^31) of it.
			f.err = fmt.Errorf("EKM answered page %d with the same products as page %d (pages_total %d): the product "+
				"list did not advance; the download stops here and is retried", n, n-1, f.page.Meta.PagesTotal)
		}
		prev = f.page.Items
		select {
		case out <- f:
		case <-ctx.Done():
			return
		}
		if f.err != nil || f.last {
			return
		}
	}
}

// fetchPage requests page n and measures the exchange from the moment the
// request got its connection, after any wait for budget or retry.
func (r *pageRun) fetchPage(ctx context.Context, n int) fetchedPage {
	var sent atomic.Int64
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		GetConn: func(string) { sent.Store(time.Now().UnixNano()) },
	})
	r.requested.Store(int64(n))
	at := time.Now()
	p, err := r.client.ListProductsRaw(ctx, n, ekm.MaxPageSize)
	var tooLarge []store.ProductProblem
	last := err == nil && p.Last()
	if errors.Is(err, ekm.ErrBodyTooLarge) {
		p, tooLarge, last, err = r.inPieces(ctx, n)
	}
	f := fetchedPage{page: p, at: at, err: err, last: last}
	if err == nil {
		f.listings, f.bad = store.ListingsOf(p.Items)
		f.problems = append(tooLarge, store.ProblemsOf(f.bad)...)
	}
	if s := sent.Load(); s != 0 {
		f.work = time.Since(time.Unix(0, s))
	}
	return f
}

// commit writes the fetched pages of group (a failed one, last, is left out) in
// one transaction, with the estimate they bring, and records their work.
func (r *pageRun) commit(ctx context.Context, group []fetchedPage) error {
	start := time.Now()
	batch := make([]store.ListingPage, 0, len(group))
	var fetchWork time.Duration
	for _, f := range group {
		if f.err != nil {
			break
		}
		if len(f.problems) > 0 {
			msg := fmt.Sprintf("listing download: page %d: %d products could not be stored, e.g. %s (see 'starter listings problems')",
				f.page.Number, len(f.problems), f.problems[0].Reason)
			if err := r.acts.Store.RecordError(ctx, r.channelID, "listings", msg); err != nil {
				return err
			}
		}
		batch = append(batch, store.ListingPage{Number: f.page.Number, PagesTotal: f.page.Meta.PagesTotal,
			ProductsTotal: f.page.Meta.ItemsTotal, Last: f.last, Listings: f.listings, BadProducts: len(f.bad),
			Problems: f.problems, FetchedAt: f.at})
		fetchWork += f.work
	}
	if len(batch) == 0 {
		return nil
	}
	last := &batch[len(batch)-1]
	last.EstimatedCompletion = r.estimate(max(last.PagesTotal, last.Number), last.Number)
	st, err := r.acts.Store.WriteListingPages(ctx, r.channelID, r.in.Generation, batch...)
	if err != nil {
		return err
	}
	r.res.State, _ = listingState(st, nil)
	r.res.Pages += len(batch)
	r.committed.Store(int64(st.PagesDone))
	activity.RecordHeartbeat(ctx, int64(st.PagesDone))
	// Fetch and commit overlap, so the slower of the two bounds the pace.
	n := time.Duration(len(batch))
	work := max(fetchWork/n, time.Since(start)/n)
	if r.res.PerPage <= 0 {
		r.res.PerPage = work
	} else {
		r.res.PerPage += time.Duration(listingSmoothing * float64(work-r.res.PerPage))
	}
	return nil
}

// estimate is the download's estimated completion when pagesDone are committed:
// the pages not yet requested at the rate and burst the budget leaves listings
// (the pace the download has had, when orders and stock left it less), or at the
// observed work per page when that is slower.
func (r *pageRun) estimate(pagesTotal, pagesDone int) *time.Time {
	budget := r.client.Budget()
	now := r.acts.now()
	eta := channel.EstimateCompletion(channel.ETAInput{
		Now:        now,
		PagesLeft:  pagesTotal - int(r.requested.Load()),
		Rate:       budget.Rate(),
		Burst:      budget.AvailableFor(ekm.PriorityListings),
		PerPage:    r.res.PerPage,
		Observed:   listingPace(r.res.State.StartTime, pagesDone, budget.CapacityFor(ekm.PriorityListings), now),
		TotalKnown: true,
	}).UTC()
	return &eta
}

// listingPaceMin is how many pages past the first burst the pace needs before it
// counts: fewer say more about the moment than about the download.
const listingPaceMin = 20

// listingPace is the pages a second a download begun at start has had, leaving
// out burst, the pages an empty bucket grants at once; 0 while it cannot tell.
func listingPace(start *time.Time, pagesDone int, burst float64, now time.Time) float64 {
	if start == nil {
		return 0
	}
	steady, elapsed := float64(pagesDone)-burst, now.Sub(*start).Seconds()
	if steady < listingPaceMin || elapsed <= 0 {
		return 0
	}
	return steady / elapsed
}

// samePage reports whether a page repeats the one before it: the same products,
// as EKM sent them, in the same places.
func samePage(prev, items []json.RawMessage) bool {
	if len(items) == 0 || len(prev) != len(items) {
		return false
	}
	return bytes.Equal(prev[0], items[0]) && bytes.Equal(prev[len(prev)-1], items[len(items)-1])
}

// inPieces fetches page n (of ekm.MaxPageSize products) in smaller pages, when
// it is too large for the client's body bound as a whole: 10, then 5, then one
// product at a time where a piece is still too large. A product that does not
// fit even alone becomes a problem named by its position in the list (its id
// is in the body that could not be read), and the rest of the page is kept. It
// does not make the download incomplete: if the hub has listings of it, they
// go unseen, and VerifyUnseenListings finds the product by id and keeps them.
// last says the list ends within the page.
func (r *pageRun) inPieces(ctx context.Context, n int) (ekm.Page[json.RawMessage], []store.ProductProblem, bool, error) {
	out := ekm.Page[json.RawMessage]{Number: n}
	var problems []store.ProductProblem
	last, err := r.piece(ctx, (n-1)*ekm.MaxPageSize, ekm.MaxPageSize, &out, &problems)
	if err != nil {
		return ekm.Page[json.RawMessage]{}, nil, false, err
	}
	out.Meta.ItemsPerPage = ekm.MaxPageSize
	if total := out.Meta.ItemsTotal; total > 0 {
		out.Meta.PagesTotal = (total + ekm.MaxPageSize - 1) / ekm.MaxPageSize
		last = last || n >= out.Meta.PagesTotal
	}
	return out, problems, last, nil
}

// smallerPage is the page size a too-large piece of each size is split into:
// each divides the one before, so the pieces tile the page exactly.
var smallerPage = map[int]int{ekm.MaxPageSize: 10, 10: 5, 5: 1}

// piece fetches the size products from offset (a multiple of size) as pages of
// the next smaller size into out, splitting further those still too large. It
// reports whether the list ended within them (a short piece).
func (r *pageRun) piece(ctx context.Context, offset, size int, out *ekm.Page[json.RawMessage], problems *[]store.ProductProblem) (bool, error) {
	limit := smallerPage[size]
	for o := offset; o < offset+size; o += limit {
		p, err := r.client.ListProductsRaw(ctx, o/limit+1, limit)
		switch {
		case errors.Is(err, ekm.ErrBodyTooLarge) && limit == 1:
			*problems = append(*problems, store.ProductProblem{Key: fmt.Sprintf("position:%d", o+1),
				Reason: fmt.Sprintf("the product at position %d of the product list does not fit the client's body bound "+
					"even alone: %s", o+1, reason(err))})
			continue
		case errors.Is(err, ekm.ErrBodyTooLarge):
			last, err := r.piece(ctx, o, limit, out, problems)
			if err != nil || last {
				return last, err
			}
			continue
		case err != nil:
			return false, err
		}
		out.Items = append(out.Items, p.Items...)
		if p.Meta.ItemsTotal > 0 {
			out.Meta.ItemsTotal = p.Meta.ItemsTotal
		}
		if len(p.Items) < limit {
			return true, nil
		}
	}
	return false, nil
}
