package harness

import (
	"strconv"
	"testing"

	"github.com/ekmsync/ekmsync/internal/config"
)

// The in-process worker's EKMSYNC_WEBHOOK_FETCHES, spelled out because its
// configuration is not read from the environment, is the worker's default.
func TestDefaultWebhookFetchesIsTheWorkersDefault(t *testing.T) {
	vars, err := config.Variables(&config.Worker{})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vars {
		if v.Name == "EKMSYNC_WEBHOOK_FETCHES" {
			if v.Default != strconv.Itoa(defaultWebhookFetches) {
				t.Fatalf("EKMSYNC_WEBHOOK_FETCHES defaults to %s, the harness to %d", v.Default, defaultWebhookFetches)
			}
			return
		}
	}
	t.Fatal("the worker reads no EKMSYNC_WEBHOOK_FETCHES")
}
