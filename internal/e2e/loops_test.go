package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/ekmsync/ekmsync/internal/channel"
	"github.com/ekmsync/ekmsync/internal/ekmsim"
	"github.com/ekmsync/ekmsync/internal/flows"
	"github.com/ekmsync/ekmsync/internal/harness"
	"github.com/ekmsync/ekmsync/workflows"
)

// A loop that Temporal closed (here terminated, as it terminates a run whose
// history grew past its limit) is reported as closed with its reason by 'orders
// status', 'push status' and 'channel show', never as waiting for a next run; and
// the worker's supervisor starts it again by itself, and logs it.
func TestATerminatedLoopIsReportedClosedAndTheWorkerStartsItAgain(t *testing.T) {
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	e := harness.New(t, harness.Options{Channel: "loops-" + hex.EncodeToString(suffix)})
	ctx := context.Background()
	syncID := workflows.OrderSyncID(e.Channel)
	runState := func(id string) flows.RunState {
		t.Helper()
		r, err := e.Workflows.RunState(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	e.Eventually(30*time.Second, "the order sync runs", func() bool { return runState(syncID).Running })

	// No worker: nothing starts the loops again while the commands look at them,
	// and a running loop cannot answer its status query.
	e.StopWorker()
	if _, errOut, code := e.CLI("orders", "status", e.Channel); code == 0 || !strings.Contains(errOut, "is a worker running?") {
		t.Errorf("orders status of a loop no worker serves: exit %d, says:\n%s", code, errOut)
	}
	const reason = "Workflow history size exceeds limit (test)"
	for _, id := range []string{syncID, workflows.ChannelPushID(e.Channel)} {
		if err := e.Temporal.TerminateWorkflow(ctx, id, "", reason); err != nil {
			t.Fatal(err)
		}
	}
	closed := runState(syncID)

	var status struct {
		Run struct {
			Running bool   `json:"running"`
			Status  string `json:"status"`
			Reason  string `json:"reason"`
			Note    string `json:"note"`
		} `json:"run"`
		NextRunAt *time.Time `json:"next_run_at"`
	}
	e.CLIJSON(&status, "orders", "status", e.Channel)
	if status.Run.Running || status.Run.Status != "Terminated" || !strings.Contains(status.Run.Reason, reason) ||
		status.Run.Note == "" || status.NextRunAt != nil {
		t.Errorf("orders status --json of a terminated loop = %+v", status)
	}
	out := e.MustCLI("orders", "status", e.Channel)
	if !strings.Contains(out, "not running: closed: terminated") || !strings.Contains(out, reason) ||
		strings.Contains(out, "waiting") || strings.Contains(out, "Next run") {
		t.Errorf("orders status of a terminated loop says:\n%s", out)
	}
	if out := e.MustCLI("push", "status", e.Channel); !strings.Contains(out, "Loop: not running: closed: terminated") {
		t.Errorf("push status of a terminated loop says:\n%s", out)
	}
	var screen struct {
		Loops struct {
			OrderSync flows.RunState `json:"order_sync"`
			Push      flows.RunState `json:"push"`
		} `json:"loops"`
	}
	e.CLIJSON(&screen, "channel", "show", e.Channel)
	if l := screen.Loops; l.OrderSync.Running || l.OrderSync.Status != "Terminated" || !strings.Contains(l.OrderSync.Reason, reason) ||
		l.Push.Running || l.Push.Status != "Terminated" {
		t.Errorf("channel show --json loops = %+v", l)
	}
	if out := e.MustCLI("channel", "show", e.Channel); !strings.Contains(out, "Order sync loop") || !strings.Contains(out, "closed: terminated") {
		t.Errorf("channel show of a terminated loop says:\n%s", out)
	}

	// A worker again: its supervisor starts both loops by itself, and says so.
	e.StartWorker(false)
	e.Eventually(90*time.Second, "the supervisor starts the order sync again", func() bool {
		r := runState(syncID)
		return r.Running && r.RunID != closed.RunID
	})
	e.Eventually(30*time.Second, "the push loop runs again", func() bool { return runState(workflows.ChannelPushID(e.Channel)).Running })
	log := e.WorkerLog()
	if !strings.Contains(log, "a loop was not running: started again") || !strings.Contains(log, "workflow_id="+syncID) {
		t.Errorf("the worker's log does not say it started the loop again:\n%s", tail(log, 3000))
	}
	if out := e.MustCLI("orders", "status", e.Channel); strings.Contains(out, "not running") {
		t.Errorf("orders status after the restart says:\n%s", out)
	}

	// With the worker running, a loop terminated now runs again within the
	// supervisor's period, by the supervisor's own round.
	// A deleted listing Schedule is created again in the same round.
	restarted := runState(syncID)
	schedule := e.Temporal.ScheduleClient().GetHandle(ctx, workflows.ListingScheduleID(e.Channel))
	if err := schedule.Delete(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.Temporal.TerminateWorkflow(ctx, syncID, "", reason); err != nil {
		t.Fatal(err)
	}
	e.Eventually(90*time.Second, "the supervisor starts the order sync again while the worker runs", func() bool {
		r := runState(syncID)
		return r.Running && r.RunID != restarted.RunID
	})
	e.Eventually(30*time.Second, "the supervisor creates the listing schedule again", func() bool {
		_, err := schedule.Describe(ctx)
		return err == nil
	})
	if n := strings.Count(e.WorkerLog(), "a loop was not running: started again\" channel="+e.Channel+" workflow_id="+syncID); n < 2 {
		t.Errorf("the worker's log says %d times that it started the order sync again, want 2:\n%s", n, tail(e.WorkerLog(), 3000))
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}

// 'orders sync --timeout' gives up when the sync cannot end in time (here EKM
// answers every request with a server error) and says what it was waiting for;
// the sync goes on in the loop.
func TestOrdersSyncTimeoutSaysWhatTheSyncWaitedFor(t *testing.T) {
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	e := harness.New(t, harness.Options{Channel: "sync-timeout-" + hex.EncodeToString(suffix)})
	e.Sim.SetFaults(ekmsim.Faults{ServerError: 1})
	out, errOut, code := e.CLI("orders", "sync", e.Channel, "--timeout", "8s")
	if code == 0 {
		t.Fatalf("orders sync against a failing shop ended well:\n%s", out)
	}
	if !strings.Contains(errOut, "gave up after 8s waiting for the order sync of "+e.Channel) ||
		!(strings.Contains(errOut, "retries: SyncOrders is on attempt") || strings.Contains(errOut, "SyncOrders is at work")) ||
		!strings.Contains(errOut, "orders status "+e.Channel) {
		t.Errorf("orders sync --timeout says:\n%s", errOut)
	}
	if _, errOut, code := e.CLI("orders", "sync", e.Channel, "--timeout", "0s"); code == 0 || !strings.Contains(errOut, "--timeout") {
		t.Errorf("a zero --timeout: exit %d, %s", code, errOut)
	}
}

// 'listings download --wait --timeout' gives up while the download waits for
// the channel's reauthorisation, and says so.
func TestListingsDownloadWaitTimeoutNamesARefusal(t *testing.T) {
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	e := harness.New(t, harness.Options{Channel: "list-timeout-" + hex.EncodeToString(suffix)})
	if err := e.Store().SetAuthState(context.Background(), e.Settings().ID, channel.AuthNeedsReauth, "EKM rejected the refresh token (test)"); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := e.CLI("listings", "download", e.Channel, "--wait", "--timeout", "15s")
	if code == 0 || !strings.Contains(errOut, "gave up after 15s waiting for the listing download of "+e.Channel) ||
		!strings.Contains(errOut, "a refusal: Waiting for reauthorisation") {
		t.Errorf("listings download --wait --timeout: exit %d, says:\n%s", code, errOut)
	}
}

// A listing download whose run was terminated mid-download (the hub still says it
// is in progress) is started again by the supervisor, and completes.
func TestATerminatedListingDownloadIsStartedAgainAndCompletes(t *testing.T) {
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	e := harness.New(t, harness.Options{Channel: "list-dead-" + hex.EncodeToString(suffix),
		Sim: ekmsim.Options{Seed: 13, Products: 1000, VariantShare: 0.3, BucketSize: 10, LeakPerSecond: 10}})
	ctx := context.Background()
	id := workflows.ListingDownloadID(e.Channel)
	e.MustCLI("listings", "download", e.Channel)
	e.Eventually(60*time.Second, "the download commits its first page", func() bool {
		st, err := e.Store().ListingDownload(ctx, e.Settings().ID)
		return err == nil && st.InProgress && st.PagesDone >= 1
	})
	dead, err := e.Workflows.RunState(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Temporal.TerminateWorkflow(ctx, id, "", "test: terminated mid-download"); err != nil {
		t.Fatal(err)
	}
	e.Eventually(90*time.Second, "the supervisor starts the download again", func() bool {
		r, err := e.Workflows.RunState(ctx, id)
		return err == nil && r.RunID != dead.RunID && (r.Running || r.Status == "Completed")
	})
	e.Eventually(120*time.Second, "the download started again completes", func() bool {
		st, err := e.Store().ListingDownload(ctx, e.Settings().ID)
		return err == nil && !st.InProgress && st.CompletionTime != nil
	})
	if !strings.Contains(e.WorkerLog(), "workflow_id="+id) {
		t.Errorf("the worker's log does not say it started the download again:\n%s", tail(e.WorkerLog(), 3000))
	}
}
