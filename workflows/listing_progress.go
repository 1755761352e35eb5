package workflows

import (
	"time"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/contract"
)

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

// ListingProgress is what the listing download's progress query returns and the
// run's result: the hub's state of the download (the four fields of the channel
// screen and the counters behind them) as of the last committed slice, what the
// run is doing, and the channel's state. The starter CLI decodes it.
type ListingProgress struct {
	Channel      string        `json:"channel"`
	Phase        ListingPhase  `json:"phase"`
	Message      string        `json:"message"`
	ChannelState channel.State `json:"channel_state"`
	contract.ListingDownloadState
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

// ListingDownloadInput is the input of ListingDownload. The starters pass
// ChannelInput, whose JSON it accepts; Resume is set by continue-as-new only.
type ListingDownloadInput struct {
	Channel string `json:"channel"`
	// Resume carries a download in progress into the next run.
	Resume *ListingResume `json:"resume,omitempty"`
	// Slice is how long each page activity fetches before the run refreshes its
	// progress; zero means the activities' DefaultListingSlice.
	Slice time.Duration `json:"slice,omitempty"`
}

// ListingResume is the state a continued run picks up: the generation it
// downloads and what it learnt of the work per page.
type ListingResume struct {
	Generation int64           `json:"generation"`
	PerPage    time.Duration   `json:"per_page"`
	Runs       int             `json:"runs"`
	Progress   ListingProgress `json:"progress"`
}

// ListingDownloadResult is how a listing download ended: its final progress, with
// the outcome in Phase and the reason in Message.
type ListingDownloadResult struct {
	ListingProgress
	// Runs is how many runs the download took (continue-as-new).
	Runs int `json:"runs"`
}
