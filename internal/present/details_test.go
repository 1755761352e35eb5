package present

import (
	"strings"
	"testing"
	"time"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/contract"
)

func TestLoopDetailsSayWhatTheLoopDoes(t *testing.T) {
	at := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	next := at.Add(5 * time.Minute)
	res := &contract.SyncOrdersResult{FinishedAt: at, OrderCounts: contract.OrderCounts{New: 3, Skipped: 1, Requests: 5}}
	d := OrderSyncDetails(contract.OrderSyncState{Channel: "shop", Phase: contract.PhaseWaiting, State: channel.StateOK, SyncDate: &at,
		NextRunAt: &next, Interval: 5 * time.Minute, LastResult: res})
	for _, want := range []string{"Order sync of shop: waiting", "Order Sync Date: 2026-11-27 12:00:00 UTC", "3 new", "Next sync: 2026-11-27 12:05:00 UTC (every 5m0s)"} {
		if !strings.Contains(d, want) {
			t.Errorf("order sync details lack %q:\n%s", want, d)
		}
	}
	idle := OrderSyncDetails(contract.OrderSyncState{Channel: "shop", Phase: contract.PhaseIdle, State: channel.StateDisabled, Reason: "channel is disabled"})
	if !strings.Contains(idle, "Channel disabled: channel is disabled") {
		t.Errorf("idle details do not say why:\n%s", idle)
	}
	p := PushDetails(contract.PushState{Channel: "shop", State: contract.PushWaiting, Passes: 2, NextSweep: &next,
		Last: &contract.PushPass{Ended: at, Despatches: contract.StepResult{Sent: 1}, Stock: contract.StepResult{Sent: 4, Failed: 1}}})
	for _, want := range []string{"Outbound push of shop: waiting", "1 despatches sent", "4 stock sent, 1 failed", "next sweep: 2026-11-27 12:05:00 UTC"} {
		if !strings.Contains(p, want) {
			t.Errorf("push details lack %q:\n%s", want, p)
		}
	}
}
