package present

import (
	"fmt"
	"strings"
	"time"

	"github.com/ekmsync/ekmsync/internal/contract"
)

// The loops' current details: what the Web UI's User Metadata tab shows, in
// words, refreshed as a loop goes on. They are not part of the history, so they
// cost nothing to keep current, and a run continued as new (which loses its
// start-time summary) still says what it is.

// OrderSyncDetails describes the order-sync loop in Markdown.
func OrderSyncDetails(st contract.OrderSyncState) string {
	var b []string
	b = append(b, fmt.Sprintf("**Order sync of %s: %s**\n\n", st.Channel, st.Phase))
	if st.Reason != "" {
		b = append(b, fmt.Sprintf("Channel %s: %s\n\n", st.State, st.Reason))
	}
	b = append(b, fmt.Sprintf("- Order Sync Date: %s\n", utcOrDash(st.SyncDate)))
	if r := st.LastResult; r != nil {
		b = append(b, fmt.Sprintf("- Last sync %s: %d new, %d updated, %d skipped, %d quarantined (%d EKM requests)\n",
			r.FinishedAt.UTC().Format(time.DateTime), r.New, r.Updated, r.Skipped, r.Quarantined, r.Requests))
	}
	b = append(b, fmt.Sprintf("- Next sync: %s (every %s)\n", utcOrDash(st.NextRunAt), st.Interval))
	if st.LastError != "" {
		b = append(b, fmt.Sprintf("- Last error: %s\n", st.LastError))
	}
	return strings.Join(b, "")
}

// PushDetails describes the push loop in Markdown.
func PushDetails(st contract.PushState) string {
	var b []string
	b = append(b, fmt.Sprintf("**Outbound push of %s: %s**\n\n", st.Channel, st.State))
	if st.ChannelState.Reason != "" {
		b = append(b, fmt.Sprintf("Channel %s: %s\n\n", st.ChannelState.State, st.ChannelState.Reason))
	}
	if p := st.Last; p != nil {
		b = append(b, fmt.Sprintf("- Last pass %s: %s; %s; %s; %s\n", p.Ended.UTC().Format(time.DateTime),
			step("despatches", p.Despatches), step("cancellations", p.Cancellations), step("stock", p.Stock), step("prices", p.Prices)))
		if p.Error != "" {
			b = append(b, fmt.Sprintf("- Last error: %s\n", p.Error))
		}
	}
	b = append(b, fmt.Sprintf("- Passes: %d; next sweep: %s\n", st.Passes, utcOrDash(st.NextSweep)))
	return strings.Join(b, "")
}

func step(name string, r contract.StepResult) string {
	s := fmt.Sprintf("%d %s sent", r.Sent, name)
	if r.Held > 0 {
		s += fmt.Sprintf(", %d held (%s)", r.Held, r.HeldReason)
	}
	if r.Failed > 0 {
		s += fmt.Sprintf(", %d failed", r.Failed)
	}
	if r.Busy > 0 {
		s += fmt.Sprintf(", %d busy (another attempt holds them)", r.Busy)
	}
	return s
}

// ListingDetails describes a listing download in Markdown.
func ListingDetails(p contract.ListingProgress) string {
	d := fmt.Sprintf("**Listing download of %s: %s**\n\n%s\n", p.Channel, p.Phase, p.Message)
	if p.StartTime != nil {
		d += "\n- Start time: " + p.StartTime.UTC().Format(time.DateTime) + " UTC"
	}
	if p.PagesTotal != nil {
		d += fmt.Sprintf("\n- Pages: %s of %s", Count(p.PagesDone), Count(*p.PagesTotal))
	}
	if p.CompletionTime != nil {
		d += "\n- Last complete download: " + p.CompletionTime.UTC().Format(time.DateTime) + " UTC"
	}
	if p.ChannelState != "" {
		d += "\n- Channel state: " + string(p.ChannelState)
	}
	return d
}
