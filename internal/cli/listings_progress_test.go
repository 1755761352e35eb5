package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/ekmsync/ekmsync/internal/contract"
)

func TestProgressLineShowsPagesItemsAndTheEstimate(t *testing.T) {
	now := time.Date(2025, 3, 4, 12, 0, 0, 0, time.UTC)
	eta := now.Add(95 * time.Second)
	total, products := 100, 2000
	p := contract.ListingProgress{Channel: "shop", Phase: contract.ListingDownloading, ListingDownloadState: contract.ListingDownloadState{
		InProgress: true, PagesDone: 25, PagesTotal: &total, ProductsTotal: &products, ListingsSeen: 640, EmptySKUs: 2, DuplicateSKUs: 3,
		EstimatedCompletion: &eta}}
	line, key := progressLine(p, now)
	want := "shop [######------------------]  25%  page 25/100  500/2000 products  640 listings (5 SKU problems)  ETA 2025-03-04 12:01:35 UTC (in 1m35s)"
	if line != want {
		t.Fatalf("line\n got %q\nwant %q", line, want)
	}
	if strings.Contains(key, "ETA") {
		t.Fatalf("key %q changes with the clock", key)
	}

	p.PagesTotal, p.EstimatedCompletion, p.Phase, p.Message = nil, nil, contract.ListingStarting, "Checking the channel."
	if line, _ := progressLine(p, now); !strings.HasSuffix(line, "]  Checking the channel.") {
		t.Fatalf("before the total: %q", line)
	}
}

func TestProgressBarWritesALinePerChangeOffATerminal(t *testing.T) {
	var out bytes.Buffer
	bar := newProgressBar(&out)
	total := 10
	p := contract.ListingProgress{Channel: "shop", Phase: contract.ListingDownloading,
		ListingDownloadState: contract.ListingDownloadState{InProgress: true, PagesDone: 1, PagesTotal: &total}}
	bar.show(p, time.Now())
	bar.show(p, time.Now().Add(time.Second))
	p.PagesDone = 2
	bar.show(p, time.Now())
	bar.end()
	if n := strings.Count(out.String(), "\n"); n != 2 {
		t.Fatalf("%d lines for two distinct states:\n%s", n, out.String())
	}
}
