// Command bench is 'make bench': it runs every benchmark of ekmsync in one go and
// prints one table of figures, each beside its goal. It never fails on a figure: the
// goals are reported, not enforced. The table is also written as Markdown to
// .test/bench.md (for the README) and as JSON to .test/bench.json.
//
// Usage: go run ./internal/cmd/bench [-only name,name] [-list]
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ekmsync/ekmsync/internal/bench"
	"github.com/ekmsync/ekmsync/internal/devserver"
	"github.com/ekmsync/ekmsync/internal/harness"
	"github.com/ekmsync/ekmsync/internal/temporaltest"
)

// all lists every benchmark, in the order of the report.
var all = []bench.Benchmark{
	bench.ClientEfficiency,
	bench.SharedBudget,
	bench.ListingEfficiency,
	bench.ListingAtScale,
	bench.OrderSyncThroughput,
	bench.OrderWebhookLatency,
	bench.OrderPoisonThroughput,
	bench.WebhookForgedFlood,
	bench.WebhookDuplicates,
	bench.PushDespatchLatency,
	bench.PeakDay,
	bench.ListingETA,
	bench.ManyShops,
}

func main() {
	only := flag.String("only", "", "comma-separated benchmark names to run (default: all)")
	list := flag.Bool("list", false, "list the benchmark names and exit")
	flag.Parse()
	if *list {
		for _, b := range all {
			fmt.Println(b.Name)
		}
		return
	}
	selected := map[string]bool{}
	for _, n := range strings.Split(*only, ",") {
		if n = strings.TrimSpace(n); n != "" {
			selected[n] = true
		}
	}
	defer temporaltest.Stop()

	var rows []bench.Row
	failed := false
	for _, b := range all {
		if len(selected) > 0 && !selected[b.Name] {
			continue
		}
		fmt.Fprintf(os.Stderr, "==> %s\n", b.Name)
		start := time.Now()
		got, err := runOne(b)
		if err != nil {
			failed = true
			fmt.Fprintf(os.Stderr, "    %s failed: %v\n", b.Name, err)
			rows = append(rows, bench.Row{Benchmark: b.Name, Measured: "error", Note: err.Error()})
			continue
		}
		fmt.Fprintf(os.Stderr, "    done in %s\n", time.Since(start).Round(time.Second))
		rows = append(rows, got...)
	}
	printTable(rows)
	if err := writeReports(rows); err != nil {
		fmt.Fprintln(os.Stderr, "bench: "+err.Error())
	}
	if failed {
		os.Exit(1) // a benchmark that could not run is an error; a missed goal is not
	}
}

// runOne runs a benchmark with its own cleanups, turning a Fatal into an error.
func runOne(b bench.Benchmark) (rows []bench.Row, err error) {
	t := harness.NewProgramTB(b.Name)
	defer t.RunCleanups()
	err = harness.Recover(func() error {
		var err error
		rows, err = b.Run(t)
		return err
	})
	return rows, err
}

func printTable(rows []bench.Row) {
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "\nekmsync benchmarks, %s, %s/%s, %d CPUs\n\n", time.Now().UTC().Format(time.DateOnly), runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
	fmt.Fprintln(tw, "BENCHMARK\tMEASURED\tGOAL\tMET\tNOTE")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Benchmark, r.Measured, r.Goal, yesNo(r), r.Note)
	}
	_ = tw.Flush()
}

func yesNo(r bench.Row) string {
	switch {
	case r.Goal == "":
		return "-"
	case r.Met:
		return "yes"
	default:
		return "NO"
	}
}

func writeReports(rows []bench.Row) error {
	dir, err := devserver.OutputDir()
	if err != nil {
		return err
	}
	b, _ := json.MarshalIndent(rows, "", "  ")
	if err := os.WriteFile(filepath.Join(dir, "bench.json"), b, 0o644); err != nil {
		return err
	}
	var md strings.Builder
	fmt.Fprintf(&md, "Measured %s on %d CPUs (`make bench`).\n\n", time.Now().UTC().Format(time.DateOnly), runtime.NumCPU())
	md.WriteString("| Benchmark | Measured | Goal | Met | Note |\n|---|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&md, "| %s | %s | %s | %s | %s |\n", r.Benchmark, r.Measured, r.Goal, yesNo(r), r.Note)
	}
	return os.WriteFile(filepath.Join(dir, "bench.md"), []byte(md.String()), 0o644)
}
