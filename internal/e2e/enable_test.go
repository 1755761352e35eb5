package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/ekmsync/ekmsync/internal/contract"
	"github.com/ekmsync/ekmsync/internal/ekmsim"
	"github.com/ekmsync/ekmsync/internal/harness"
	"github.com/ekmsync/ekmsync/workflows"
)

// The first 'channel enable' of a channel that has never completed a listing
// download starts one and says so, in --json and in text; once a download has
// completed, enabling again starts none.
func TestFirstEnableStartsTheListingDownloadAndSaysSo(t *testing.T) {
	h := harness.New(t, harness.Options{Disabled: true, Sim: ekmsim.Options{Seed: 17, Products: 60}})
	ctx := context.Background()
	var res struct {
		ListingDownload *struct {
			WorkflowID string `json:"workflow_id"`
			RunID      string `json:"run_id"`
		} `json:"listing_download"`
	}
	h.CLIJSON(&res, "channel", "enable", h.Channel)
	if res.ListingDownload == nil || res.ListingDownload.WorkflowID != workflows.ListingDownloadID(h.Channel) || res.ListingDownload.RunID == "" {
		t.Fatalf("first enable --json: listing_download = %+v, want the download's workflow and run", res.ListingDownload)
	}
	var done contract.ListingProgress
	if err := h.Temporal.GetWorkflow(ctx, res.ListingDownload.WorkflowID, res.ListingDownload.RunID).Get(ctx, &done); err != nil {
		t.Fatal(err)
	}
	if done.Phase != contract.ListingCompleted {
		t.Fatalf("the download the enable started: %s: %s", done.Phase, done.Message)
	}
	if n, err := h.Store().CountListings(ctx, h.Settings().ID); err != nil || n.Live == 0 {
		t.Fatalf("listings after the first enable's download: %+v, %v", n, err)
	}

	h.MustCLI("channel", "disable", h.Channel)
	res.ListingDownload = nil
	h.CLIJSON(&res, "channel", "enable", h.Channel)
	if res.ListingDownload != nil {
		t.Fatalf("enable after a completed download started another: %+v", res.ListingDownload)
	}

	h.AddChannel("second", nil, false)
	if out := h.MustCLI("channel", "enable", "second"); !strings.Contains(out, "started its first listing download") ||
		!strings.Contains(out, workflows.ListingDownloadID("second")) {
		t.Fatalf("first enable, in text, does not say it started the listing download:\n%s", out)
	}
}
