package e2e

import (
	"testing"

	"github.com/ekmsync/ekmsync/internal/harness"
)

func TestChannelAddThroughTheCLI(t *testing.T) {
	h := harness.New(t, harness.Options{Disabled: true})
	var screen struct {
		Channel struct {
			Name     string `json:"name"`
			Currency string `json:"currency"`
		} `json:"channel"`
		Status struct {
			State string `json:"state"`
		} `json:"status"`
	}
	h.CLIJSON(&screen, "channel", "show", h.Channel)
	if screen.Channel.Name != h.Channel || screen.Channel.Currency != "GBP" || screen.Status.State != "disabled" {
		t.Fatalf("screen = %+v", screen)
	}
}
