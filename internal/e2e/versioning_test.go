package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/ekmsync/ekmsync/internal/devserver"
	"github.com/ekmsync/ekmsync/internal/ekmsim"
	"github.com/ekmsync/ekmsync/internal/harness"
	"github.com/ekmsync/ekmsync/internal/process"
	"github.com/ekmsync/ekmsync/workflows"
)

// A rolling upgrade with Worker Versioning: build A runs the channel's loops; build B
// joins the deployment and becomes current; every loop then runs on B (they
// auto-upgrade), none failed a workflow task (no non-determinism), and the orders
// that arrived before and after the switch are all in the hub, once.
func TestWorkerVersioningMovesEveryLoopToTheNewBuild(t *testing.T) {
	h := harness.New(t, harness.Options{WorkerProcess: true, NoChannel: true, Sim: ekmsim.Options{Seed: 7, Products: 10}})
	h.StopWorker() // the harness's unversioned worker; builds A and B take over
	ctx := context.Background()
	deployment := "ekmsync-" + h.WorkerConfig.TaskQueue
	dir := t.TempDir()
	buildA, buildB := "vtest-a", "vtest-b"
	binA, binB := stampedWorker(t, dir, buildA), stampedWorker(t, dir, buildB)

	var logA, logB lockedBuffer
	a := startVersionedWorker(t, h, binA, deployment, &logA)
	setCurrentVersion(t, h, deployment, buildA)
	h.AddChannel(h.Channel, nil, true)
	loops := []string{workflows.OrderSyncID(h.Channel), workflows.ChannelPushID(h.Channel)}
	for _, id := range loops {
		waitOnBuild(t, h, id, buildA)
	}
	before := h.Sim.CreateOrder(ekmsim.OrderSpec{Status: "Processing"})
	syncNow(t, h)

	b := startVersionedWorker(t, h, binB, deployment, &logB)
	setCurrentVersion(t, h, deployment, buildB)
	// An auto-upgrade loop moves at its next workflow task: wake each.
	for _, id := range loops {
		if err := h.Temporal.SignalWorkflow(ctx, id, "", workflows.SignalWake, nil); err != nil {
			t.Fatalf("wake %s: %v", id, err)
		}
	}
	for _, id := range loops {
		waitOnBuild(t, h, id, buildB)
	}
	// Build A may stop now: nothing runs on it.
	if err := a.Stop(20 * time.Second); err != nil {
		t.Fatalf("stop build A: %v\n%s", err, &logA)
	}
	after := h.Sim.CreateOrder(ekmsim.OrderSpec{Status: "Processing"})
	syncNow(t, h)
	hub := hubOrders(t, h)
	for _, o := range []int64{before.ID, after.ID} {
		if _, ok := hub[o]; !ok {
			t.Errorf("order %d is not in the hub", o)
		}
	}
	for _, id := range loops {
		desc, err := h.Temporal.DescribeWorkflowExecution(ctx, id, "")
		if err != nil {
			t.Fatal(err)
		}
		if st := desc.GetWorkflowExecutionInfo().GetStatus(); st != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
			t.Errorf("%s is %s, want running", id, st)
		}
		iter := h.Temporal.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for iter.HasNext() {
			ev, err := iter.Next()
			if err != nil {
				t.Fatal(err)
			}
			if ev.GetEventType() == enumspb.EVENT_TYPE_WORKFLOW_TASK_FAILED {
				t.Errorf("%s: workflow task failed: %v", id, ev.GetWorkflowTaskFailedEventAttributes().GetFailure())
			}
		}
	}
	if err := b.Stop(20 * time.Second); err != nil {
		t.Fatalf("stop build B: %v\n%s", err, &logB)
	}
}

// stampedWorker builds the worker with version v, as 'make build' and the Dockerfile do.
func stampedWorker(t *testing.T, dir, v string) string {
	t.Helper()
	out := filepath.Join(dir, v)
	cmd := exec.Command("go", "build", "-ldflags", "-X github.com/ekmsync/ekmsync/internal/version.Version="+v, "-o", out, "./worker")
	cmd.Dir = filepath.Join("..", "..")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build worker %s: %v\n%s", v, err, b)
	}
	return out
}

// startVersionedWorker runs a worker binary of the deployment against h, on listeners
// of its own, and waits until it is healthy.
func startVersionedWorker(t *testing.T, h *harness.Env, bin, deployment string, log *lockedBuffer) *process.Proc {
	t.Helper()
	w := h.WorkerConfig
	publicPort, err := devserver.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	adminPort, err := devserver.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	admin := fmt.Sprintf("127.0.0.1:%d", adminPort) // the probes are on the admin listener
	env := []string{"TEMPORAL_ADDRESS=" + w.Address, "TEMPORAL_NAMESPACE=" + w.Namespace, "EKMSYNC_DATABASE_URL=" + string(w.DatabaseURL),
		"EKMSYNC_SECRET_KEY=" + base64.StdEncoding.EncodeToString(w.SecretKey), fmt.Sprintf("EKMSYNC_HTTP_ADDR=127.0.0.1:%d", publicPort), "EKMSYNC_ADMIN_ADDR=" + admin,
		"EKMSYNC_TASK_QUEUE=" + w.TaskQueue, "EKMSYNC_WORKER_STOP_TIMEOUT=5s", "EKMSYNC_DEPLOYMENT_NAME=" + deployment}
	p, err := process.Start(bin, nil, env, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Kill)
	h.Eventually(60*time.Second, "worker "+bin+" healthy", func() bool { return httpOK("http://" + admin + "/readyz") })
	return p
}

// setCurrentVersion makes buildID the deployment's current version, retrying while
// the server has not yet seen the build's workers poll.
func setCurrentVersion(t *testing.T, h *harness.Env, deployment, buildID string) {
	t.Helper()
	handle := h.Temporal.WorkerDeploymentClient().GetHandle(deployment)
	var last error
	h.Eventually(60*time.Second, fmt.Sprintf("%s current in %s", buildID, deployment), func() bool {
		_, last = handle.SetCurrentVersion(context.Background(), client.WorkerDeploymentSetCurrentVersionOptions{BuildID: buildID})
		return last == nil
	})
}

// waitOnBuild waits until the workflow's last workflow task ran on buildID.
func waitOnBuild(t *testing.T, h *harness.Env, id, buildID string) {
	t.Helper()
	var got string
	h.Eventually(60*time.Second, id+" on "+buildID, func() bool {
		desc, err := h.Temporal.DescribeWorkflowExecution(context.Background(), id, "")
		if err != nil {
			return false
		}
		got = desc.GetWorkflowExecutionInfo().GetVersioningInfo().GetDeploymentVersion().GetBuildId()
		return got == buildID
	})
}

func httpOK(url string) bool {
	resp, err := http.Get(url)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// lockedBuffer collects a worker's output for the failure messages.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
