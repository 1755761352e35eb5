package e2e

import (
	"strings"
	"testing"

	"github.com/ekmsync/ekmsync/internal/ekmsim"
	"github.com/ekmsync/ekmsync/internal/harness"
)

// TestOversizedProductsDoNotBlockTheListingDownload (issue 12): products with
// 900 KB names push a page past the client's 8 MiB body bound, and one with a
// 9 MB name does not fit even alone. 'listings download --wait' completes,
// and 'listings problems' lists the product it could not store with the
// reason, beside the SKU problems.
func TestOversizedProductsDoNotBlockTheListingDownload(t *testing.T) {
	h := harness.New(t, harness.Options{Sim: ekmsim.Options{Seed: 13, Products: 60}})
	products := h.Sim.Products()
	big, huge := strings.Repeat("n", 900<<10), strings.Repeat("N", 9<<20)
	for i := 20; i < 35; i++ {
		name := big
		if i == 27 {
			name = huge
		}
		if _, err := h.Sim.UpdateProduct(products[i].ID, ekmsim.ProductPatch{Name: &name}); err != nil {
			t.Fatal(err)
		}
	}
	res := downloadAndWait(t, h)
	if res.InProgress || !res.AllPagesDone() || res.BadProducts != 0 || !strings.HasPrefix(res.LastOutcome, "completed") {
		t.Fatalf("download: %+v", res)
	}
	var problems struct {
		Products []struct {
			Key    string `json:"key"`
			Reason string `json:"reason"`
		} `json:"product_problems"`
	}
	h.CLIJSON(&problems, "listings", "problems", h.Channel)
	if len(problems.Products) != 1 || problems.Products[0].Key != "position:28" ||
		!strings.Contains(problems.Products[0].Reason, "body bound") {
		t.Fatalf("listings problems = %+v", problems.Products)
	}
	if out := h.MustCLI("listings", "problems", h.Channel); !strings.Contains(out, "position:28") {
		t.Fatalf("'listings problems' does not list the product:\n%s", out)
	}
}
