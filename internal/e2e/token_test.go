package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/ekmsync/ekmsync/internal/ekm"
	"github.com/ekmsync/ekmsync/internal/harness"
)

// 'channel show' gives the refresh token's last use and the date EKM lets it
// lapse (15 days later), and 'channel set token-keepalive=off' turns the
// keep-alive off, which the screen then says.
func TestChannelShowGivesTheRefreshTokensLapse(t *testing.T) {
	h := harness.New(t, harness.Options{})
	type screen struct {
		Token struct {
			KeepAlive bool       `json:"keepalive"`
			LastUsed  *time.Time `json:"last_used"`
			LapsesAt  *time.Time `json:"lapses_at"`
		} `json:"token"`
	}
	var scr screen
	h.CLIJSON(&scr, "channel", "show", h.Channel)
	if scr.Token.LastUsed == nil || scr.Token.LapsesAt == nil || !scr.Token.KeepAlive {
		t.Fatalf("token on the channel screen: %+v, want a last use, a lapse and the keep-alive on", scr.Token)
	}
	if d := time.Since(*scr.Token.LastUsed); d < 0 || d > time.Hour {
		t.Errorf("last use %s: want the authorisation or a refresh of the last hour", scr.Token.LastUsed)
	}
	if got := scr.Token.LapsesAt.Sub(*scr.Token.LastUsed); got != ekm.RefreshTokenLifetime {
		t.Errorf("lapse %s after the last use, want 15 days", got)
	}
	if out := h.MustCLI("channel", "show", h.Channel); !strings.Contains(out, "Refresh Token Lapses [UTC]") ||
		!strings.Contains(out, scr.Token.LapsesAt.UTC().Format(time.DateTime)) || !strings.Contains(out, "keep-alive renews it") {
		t.Errorf("channel show:\n%s", out)
	}
	h.MustCLI("channel", "set", h.Channel, "token-keepalive=off")
	h.CLIJSON(&scr, "channel", "show", h.Channel)
	if scr.Token.KeepAlive {
		t.Error("token-keepalive=off: the channel screen still shows the keep-alive on")
	}
	if out := h.MustCLI("channel", "show", h.Channel); !strings.Contains(out, "token-keepalive is off") {
		t.Errorf("channel show with the keep-alive off:\n%s", out)
	}
}
