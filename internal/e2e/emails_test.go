package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/ekmsync/ekmsync/internal/ekmsim"
	"github.com/ekmsync/ekmsync/internal/harness"
)

// The customer e-mails of despatch and cancellation are channel settings: each
// value set through 'starter channel set' reaches EKM as the email_customer flag
// of the status update, as the simulator records it.
func TestCustomerEmailSettingsReachEKM(t *testing.T) {
	p := newPushEnv(t, harness.Options{})
	if got := p.showSettings(); got["email-on-despatch"] != "on" || got["email-on-cancellation"] != "off" {
		t.Fatalf("defaults on the channel screen: despatch %q, cancellation %q; want on, off (ekmsync's behaviour before the settings)",
			got["email-on-despatch"], got["email-on-cancellation"])
	}
	for _, c := range []struct{ despatch, cancellation bool }{{false, true}, {true, false}} {
		p.MustCLI("channel", "set", p.Channel, "email-on-despatch="+onOffText(c.despatch), "email-on-cancellation="+onOffText(c.cancellation))
		if got := p.showSettings(); got["email-on-despatch"] != onOffText(c.despatch) || got["email-on-cancellation"] != onOffText(c.cancellation) {
			t.Fatalf("channel show --json after set: %v", got)
		}
		shipped, shippedHub := p.order("A")
		cancelled, _ := p.order("A")
		p.MustCLI("orders", "ship", fmt.Sprint(shippedHub), "--tracking", "RM1", "--carrier", "Royal Mail")
		p.MustCLI("orders", "cancel", p.Channel+":"+fmt.Sprint(cancelled))
		for _, o := range []struct {
			id   int64
			what string
			want bool
		}{{shipped, "despatch", c.despatch}, {cancelled, "cancellation", c.cancellation}} {
			var w []ekmsim.Write
			p.Eventually(30*time.Second, "EKM received the "+o.what+"'s status update", func() bool {
				w = p.writes(ekmsim.KindOrderStatus, ekmsim.WriteFilter{OrderID: o.id})
				return len(w) > 0
			})
			if len(w) != 1 || w[0].EmailCustomer == nil || *w[0].EmailCustomer != o.want {
				t.Errorf("%s with email-on-%s=%s: status writes %+v, want one with email_customer %v", o.what, o.what, onOffText(o.want), w, o.want)
			}
		}
	}
}

// showSettings returns the settings of 'channel show --json', by key.
func (p *pushEnv) showSettings() map[string]string {
	p.t.Helper()
	var scr struct {
		Settings []struct {
			Key   string `json:"setting"`
			Value string `json:"value"`
		} `json:"settings"`
	}
	p.CLIJSON(&scr, "channel", "show", p.Channel)
	out := map[string]string{}
	for _, s := range scr.Settings {
		out[s.Key] = s.Value
	}
	return out
}

func onOffText(b bool) string {
	if b {
		return "on"
	}
	return "off"
}
