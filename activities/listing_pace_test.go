package activities

import (
	"testing"
	"time"
)

// TestListingPaceLeavesTheFirstBurstOut: the pace counts the pages past the burst
// an empty bucket grants at once, and says nothing while too few tell.
func TestListingPaceLeavesTheFirstBurstOut(t *testing.T) {
	start := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	if got := listingPace(&start, 136, 36, start.Add(80*time.Second)); got != 1.25 {
		t.Errorf("136 pages in 80 s after a burst of 36 = %v pages/s, want 1.25", got)
	}
	if got := listingPace(&start, 50, 36, start.Add(10*time.Second)); got != 0 {
		t.Errorf("14 pages past the burst = %v, want 0 (too few to tell)", got)
	}
	if got := listingPace(nil, 500, 36, start); got != 0 {
		t.Errorf("no start time = %v, want 0", got)
	}
}

func TestListingSliceStretchesTheDefaultWhileManyDownloadsRun(t *testing.T) {
	for _, c := range []struct {
		asked   time.Duration
		running int64
		want    time.Duration
	}{
		{0, 1, DefaultListingSlice},
		{0, 50, DefaultListingSlice},
		{0, 200, 20 * time.Second},
		{0, 5000, listingSliceMax},
		{time.Nanosecond, 200, time.Nanosecond}, // the first page's slice, and a test's, as asked
		{2 * time.Second, 500, 2 * time.Second},
	} {
		if got := listingSlice(c.asked, c.running); got != c.want {
			t.Errorf("listingSlice(%v, %d) = %v, want %v", c.asked, c.running, got, c.want)
		}
	}
}
