package chaos

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ekmsync/ekmsync/internal/ekmsim"
)

// Report is what a run did and what its checks found.
type Report struct {
	Config  Config `json:"config"`
	Channel string `json:"channel"`
	Did     Did    `json:"did"`
	// Requests are the shop's request and fault counters.
	Requests ekmsim.RequestStats `json:"requests"`
	Found    []Finding           `json:"found"`
	// Settled is whether hub and shop came to agree within Settle.
	Settled     bool          `json:"settled"`
	TrafficTook time.Duration `json:"traffic_took"`
	SettleTook  time.Duration `json:"settle_took"`
	// Errors are drivers that could not do their part (the run is then not OK).
	Errors []string `json:"errors,omitempty"`
}

// Did counts what the run did.
type Did struct {
	Listings     int   `json:"listings"`
	Orders       int   `json:"orders"`
	Despatches   int   `json:"despatches"`
	StockChanges int64 `json:"stock_changes"`
	StockSKUs    int   `json:"stock_skus"`
	PriceChanges int64 `json:"price_changes"`
	PriceSKUs    int   `json:"price_skus"`
	Kills        int64 `json:"worker_kills"`
	// KillsOf counts the kills of each worker process; RequestsWhileDown the EKM
	// API requests made while one was down, by the others.
	KillsOf           []int `json:"kills_of_each_worker"`
	RequestsWhileDown int   `json:"api_requests_while_a_worker_was_down"`
	PGRestarts        int64 `json:"postgres_restarts"`
	HubRetries        int64 `json:"hub_write_retries"`
	APIRequests       int   `json:"api_requests"`
	// The hostile mode's: the workers' answers to the forged and the duplicate
	// webhooks by status, the poison orders the hub must quarantine, the
	// oversized products, and the hints the receiver handed to the order sync.
	ForgedWebhooks map[string]int `json:"forged_webhooks,omitempty"`
	DuplicateHints map[string]int `json:"duplicate_hints,omitempty"`
	PoisonOrders   int            `json:"poison_orders,omitempty"`
	Oversized      int            `json:"oversized_products,omitempty"`
	HintsHanded    int            `json:"hints_handed,omitempty"`
	StalePages     int            `json:"stale_pages,omitempty"`
}

// OK reports whether the run did all it should and hub and shop agree.
func (r *Report) OK() bool {
	return len(r.Errors) == 0 && r.Settled && agree(r.Found)
}

func (r *runner) fill(rep *Report) {
	r.mu.Lock()
	rep.Did = Did{Listings: len(r.catalog.listings), Orders: len(r.orders), Despatches: len(r.shipped),
		StockSKUs: len(r.stockSet), PriceSKUs: len(r.priceSet), KillsOf: slices.Clone(r.killsOf), RequestsWhileDown: r.requestsWhileDown}
	r.mu.Unlock()
	rep.Did.StockChanges, rep.Did.PriceChanges = r.stockChanges.Load(), r.priceChanges.Load()
	rep.Did.Kills, rep.Did.PGRestarts, rep.Did.HubRetries = r.kills.Load(), r.pgRestarts.Load(), r.hubRetries.Load()
	if r.cfg.Hostile.on() {
		r.mu.Lock()
		rep.Did.PoisonOrders = len(r.poison)
		r.mu.Unlock()
		rep.Did.ForgedWebhooks, rep.Did.DuplicateHints = r.forged.snapshot(), r.duplicates.snapshot()
		rep.Did.Oversized, rep.Did.HintsHanded = len(r.oversized), r.hintsHanded
		rep.Did.StalePages = r.cfg.Hostile.StalePages - r.env.Sim.Hostile().StalePages
	}
	rep.Requests = r.env.Sim.RequestStats()
	rep.Did.APIRequests = apiRequests(rep.Requests)
}

func apiRequests(rs ekmsim.RequestStats) int {
	n := 0
	for route, c := range rs.ByRoute {
		if strings.Contains(route, " /api/") {
			n += c
		}
	}
	return n
}

// Print writes the report as two tables, what the run did and what it found,
// with the first mismatches of each check.
func (r *Report) Print(w io.Writer) {
	c, d, f := r.Config, r.Did, r.Requests.Faults
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "\nekmsync chaos run (seed %d, channel %s): traffic %s, settled in %s\n\n", c.Seed, r.Channel,
		r.TrafficTook.Round(time.Second), r.SettleTook.Round(time.Second))
	fmt.Fprintln(tw, "DID\tCOUNT\tASKED")
	fmt.Fprintf(tw, "products in the shop (listings)\t%d (%d)\t%d\n", c.Products, d.Listings, c.Products)
	fmt.Fprintf(tw, "orders arrived on the shop\t%d\t%d\n", d.Orders, c.Orders)
	fmt.Fprintf(tw, "orders shipped in the hub\t%d\t%d\n", d.Despatches, c.Despatches)
	fmt.Fprintf(tw, "stock changes in the hub (SKUs)\t%d (%d)\t%d\n", d.StockChanges, d.StockSKUs, c.StockChanges)
	fmt.Fprintf(tw, "price changes in the hub (SKUs)\t%d (%d)\t%d\n", d.PriceChanges, d.PriceSKUs, c.PriceChanges)
	fmt.Fprintf(tw, "worker processes on the task queue\t%d\t%d\n", len(d.KillsOf), c.Workers)
	fmt.Fprintf(tw, "one of them killed with SIGKILL (each)\t%d %v\t%d\n", d.Kills, d.KillsOf, c.Kills)
	fmt.Fprintf(tw, "EKM API requests while one was down\t%d\t\n", d.RequestsWhileDown)
	fmt.Fprintf(tw, "PostgreSQL restarted\t%d\t%d\n", d.PGRestarts, boolCount(c.RestartPostgres))
	fmt.Fprintf(tw, "hub writes retried while the database was down\t%d\t\n", d.HubRetries)
	fmt.Fprintf(tw, "EKM API requests\t%d\t\n", d.APIRequests)
	fmt.Fprintf(tw, "  server errors injected (500, 502, 503)\t%d\t%.1f%%\n", f.ServerErrors, 100*c.Faults.ServerError)
	fmt.Fprintf(tw, "  429s injected (in bursts)\t%d (%d)\t%.1f%% of requests start a burst\n", f.RateLimited, f.Bursts, 100*c.Faults.RateLimitBurst)
	fmt.Fprintf(tw, "  429s from the shop's bucket (the workers' own)\t%d\t0\n", r.Requests.BucketLimited)
	fmt.Fprintf(tw, "  slow answers (+%s)\t%d\t%.1f%%\n", c.Faults.LatencyDuration, f.Slow, 100*c.Faults.Latency)
	fmt.Fprintf(tw, "  malformed bodies\t%d\t%.1f%%\n", f.Malformed, 100*c.Faults.Malformed)
	if h := c.Hostile; h.on() {
		fmt.Fprintf(tw, "forged webhooks posted (workers' answers)\t%d %v\t%d\n", total(d.ForgedWebhooks), d.ForgedWebhooks, h.ForgedWebhooks)
		fmt.Fprintf(tw, "duplicate authenticated hints posted\t%d %v\t%d\n", total(d.DuplicateHints), d.DuplicateHints, h.DuplicateHints)
		fmt.Fprintf(tw, "hints taken in by the receiver (share of API requests)\t%d (%.1f%%)\t\n", d.HintsHanded,
			100*float64(d.HintsHanded)/float64(max(d.APIRequests, 1)))
		fmt.Fprintf(tw, "poison orders (NUL names stored, figures quarantined)\t%d quarantined\t%.1f%% of orders\n", d.PoisonOrders, 100*h.PoisonShare)
		fmt.Fprintf(tw, "oversized products (9 MB names)\t%d\t%d\n", d.Oversized, h.OversizedProducts)
		fmt.Fprintf(tw, "stale pages served\t%d\t%d\n", d.StalePages, h.StalePages)
	}
	fmt.Fprintln(tw, "\t\t")
	fmt.Fprintln(tw, "FOUND\tCHECKED\tMISMATCHES")
	for _, fd := range r.Found {
		fmt.Fprintf(tw, "%s\t%d\t%d\n", fd.Check, fd.Checked, fd.Count)
	}
	_ = tw.Flush()
	for _, fd := range r.Found {
		for _, m := range fd.Mismatches {
			fmt.Fprintf(w, "  %s: %s\n", fd.Check, m)
		}
		if fd.Count > len(fd.Mismatches) {
			fmt.Fprintf(w, "  %s: ... and %d more\n", fd.Check, fd.Count-len(fd.Mismatches))
		}
	}
	for _, e := range r.Errors {
		fmt.Fprintf(w, "  error: %s\n", e)
	}
	switch {
	case r.OK():
		fmt.Fprintln(w, "\nresult: hub and shop agree")
	case !r.Settled:
		fmt.Fprintf(w, "\nresult: MISMATCH: hub and shop did not agree within %s of the traffic's end\n", c.Settle)
	default:
		fmt.Fprintln(w, "\nresult: MISMATCH")
	}
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func boolCount(b bool) int {
	if b {
		return 1
	}
	return 0
}

// progress prints a line every 10 seconds while the traffic runs.
func (r *runner) progress(ctx context.Context) {
	t := time.NewTicker(10 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			r.printProgress(nil)
		}
	}
}

// printProgress prints one progress line, with the mismatches still open when
// found is given.
func (r *runner) printProgress(found []Finding) {
	r.mu.Lock()
	orders, shipped := len(r.orders), len(r.shipped)
	r.mu.Unlock()
	var hubOrders, pages int
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = r.env.DB.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM orders), COALESCE((SELECT pages_done FROM listing_downloads LIMIT 1), 0)`).
		Scan(&hubOrders, &pages)
	line := fmt.Sprintf("chaos: %s orders %d on the shop, %d in the hub; listing pages %d; shipped %d; stock %d; prices %d; kills %d; API requests %d",
		r.elapsed(), orders, hubOrders, pages, shipped, r.stockChanges.Load(), r.priceChanges.Load(), r.kills.Load(), apiRequests(r.env.Sim.RequestStats()))
	for _, f := range found {
		if f.Count > 0 {
			line += fmt.Sprintf("; %s: %d open", f.Check, f.Count)
		}
	}
	fmt.Fprintln(r.log, line)
}
