package contract

import (
	"time"

	"github.com/ekmsync/ekmsync/internal/channel"
)

// The listing download's state (docs/channel-semantics.md §5): one struct that is
// at once the workflow's input, the payload it continues as new with, the answer
// to its progress query and its result. A starter's {"channel": ...} is a
// download that has not begun.

// ListingPhase says what a listing download is doing, or how it ended.
type ListingPhase string

// The phases of a listing download. The last five are final.
const (
	ListingStarting    ListingPhase = "starting"    // checking the channel, beginning a generation
	ListingWaiting     ListingPhase = "waiting"     // the channel needs reauthorisation
	ListingDownloading ListingPhase = "downloading" // fetching and committing pages
	ListingFinishing   ListingPhase = "finishing"   // marking removed listings, counting SKU problems
	ListingCompleted   ListingPhase = "completed"   // every page read; unseen listings marked removed
	ListingIncomplete  ListingPhase = "incomplete"  // every page read, but products could not be: nothing removed
	ListingSkipped     ListingPhase = "skipped"     // not started: the channel is disabled
	ListingStopped     ListingPhase = "stopped"     // ended early (channel disabled or removed); nothing removed
	ListingFailed      ListingPhase = "failed"      // EKM refused the request; nothing removed
)

// Final reports whether the phase is one a download ends in.
func (p ListingPhase) Final() bool {
	switch p {
	case ListingCompleted, ListingIncomplete, ListingSkipped, ListingStopped, ListingFailed:
		return true
	}
	return false
}

// DefaultListingSlicesPerRun is how many slices one run of a listing download
// does before it continues as new (about 8 history events each).
const DefaultListingSlicesPerRun = 120

// ListingProgress is a listing download's state: the hub's state of the download
// (the four fields of the channel screen and the counters behind them) as of the
// last committed slice, what the run is doing, the channel's state, and what a
// run hands to the next. The starter CLI decodes it.
type ListingProgress struct {
	Channel      string        `json:"channel"`
	Phase        ListingPhase  `json:"phase"`
	Message      string        `json:"message"`
	ChannelState channel.State `json:"channel_state"`
	ListingDownloadState
	// Downloading is the generation this download began and fetches; 0 until
	// it began. (ListingDownloadState.Generation may show an earlier download's
	// while this one waits to begin.)
	Downloading int64 `json:"downloading,omitempty"`
	// PerPage is the work time per page observed so far, for the estimate.
	PerPage time.Duration `json:"per_page,omitempty"`
	// Runs is how many runs the download took so far (continue-as-new).
	Runs int `json:"runs"`
	// Slice is how long each page activity fetches before the run refreshes
	// its progress; zero means the activities' DefaultListingSlice.
	Slice time.Duration `json:"slice,omitempty"`
	// SlicesPerRun bounds the slices of one run; zero means
	// DefaultListingSlicesPerRun.
	SlicesPerRun int `json:"slices_per_run,omitempty"`
}

// Percent is the share of pages committed, 0 to 100, or -1 while the total is unknown.
func (p ListingProgress) Percent() float64 {
	if p.PagesTotal == nil {
		return -1
	}
	if *p.PagesTotal <= 0 {
		return 100
	}
	return min(100, 100*float64(p.PagesDone)/float64(*p.PagesTotal))
}
