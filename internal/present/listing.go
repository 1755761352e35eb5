package present

import (
	"fmt"
	"time"

	"github.com/ekmsync/ekmsync/internal/contract"
)

// ListingDownloading says in words how far a listing download is: the message
// of its progress while it downloads.
func ListingDownloading(st contract.ListingDownloadState) string {
	if st.PagesTotal == nil {
		return "Downloading: waiting for the first page, which tells the total."
	}
	msg := fmt.Sprintf("Downloading: page %s of %s committed", Count(st.PagesDone), Count(*st.PagesTotal))
	if st.ProductsTotal != nil {
		msg += fmt.Sprintf(" (%s products in the shop)", Count(*st.ProductsTotal))
	}
	msg += fmt.Sprintf("; %s listings seen, %s with an empty and %s with a duplicate SKU so far.",
		Count(st.ListingsSeen), Count(st.EmptySKUs), Count(st.DuplicateSKUs))
	if st.EstimatedCompletion != nil {
		msg += " Estimated completion " + st.EstimatedCompletion.UTC().Format(time.DateTime) + " UTC."
	}
	return msg
}

// ETA is a listing download's Estimated Completion as an operator reads it: a
// time in UTC and how far off it is, "unknown" until the first page tells the
// total, "-" when no download runs.
func ETA(st contract.ListingDownloadState, now time.Time) string {
	switch {
	case !st.InProgress:
		return "-"
	case st.EstimatedCompletion == nil:
		return "unknown"
	}
	left := st.EstimatedCompletion.Sub(now).Round(time.Second)
	if left < 0 {
		left = 0
	}
	return fmt.Sprintf("%s UTC (in %s)", UTC(st.EstimatedCompletion), left)
}
