package workflows

import (
	"path/filepath"
	"testing"

	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// Histories recorded from real runs (a download of a disabled channel; a complete
// download in two slices) must replay against the current code: a change that
// breaks determinism for runs in flight fails here, not in production.
func TestListingDownloadReplaysRecordedHistories(t *testing.T) {
	files, err := filepath.Glob("testdata/listing_download_*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no recorded histories in testdata (%v)", err)
	}
	r := worker.NewWorkflowReplayer()
	r.RegisterWorkflowWithOptions(ListingDownload, workflow.RegisterOptions{Name: ListingDownloadWorkflow})
	for _, f := range files {
		if err := r.ReplayWorkflowHistoryFromJSONFile(nil, f); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}
