package e2e

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/ekmsync/ekmsync/internal/ekmsim"
	"github.com/ekmsync/ekmsync/internal/harness"
)

// otlpReceiver is an OTLP/HTTP trace receiver: it keeps the names of the spans
// it is sent.
type otlpReceiver struct {
	mu    sync.Mutex
	names map[string]bool
}

func (o *otlpReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var req coltracepb.ExportTraceServiceRequest
	if r.URL.Path != "/v1/traces" || proto.Unmarshal(body, &req) != nil {
		http.Error(w, "not an OTLP trace export", http.StatusBadRequest)
		return
	}
	o.mu.Lock()
	for _, rs := range req.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			for _, s := range ss.Spans {
				o.names[s.Name] = true
			}
		}
	}
	o.mu.Unlock()
	out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(out)
}

func (o *otlpReceiver) has(names ...string) (bool, []string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var seen []string
	for n := range o.names {
		seen = append(seen, n)
	}
	sort.Strings(seen)
	for _, n := range names {
		if !o.names[n] {
			return false, seen
		}
	}
	return true, seen
}

// TestTracingExportsWorkflowAndActivitySpans: with EKMSYNC_OTEL_TRACES=otlp and
// the standard OTEL_EXPORTER_OTLP_* variables, a listing download and an order
// sync reach an OTLP receiver as spans of their workflow run and activities.
func TestTracingExportsWorkflowAndActivitySpans(t *testing.T) {
	recv := &otlpReceiver{names: map[string]bool{}}
	srv := httptest.NewServer(recv)
	t.Cleanup(srv.Close) // after the worker's (registered later, run earlier): its last spans still land
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", srv.URL)
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
	t.Setenv("OTEL_BSP_SCHEDULE_DELAY", "100")

	h := harness.New(t, harness.Options{Channel: "traced", Sim: ekmsim.Options{Products: 5}})
	h.StopWorker()
	h.WorkerConfig.OTelTraces = "otlp"
	h.StartWorker(false)
	h.MustCLI("listings", "download", h.Channel, "--wait")
	syncNow(t, h)

	want := []string{"RunWorkflow:ListingDownload", "RunActivity:DownloadListingPages", "RunActivity:SyncOrders"}
	var seen []string
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		var ok bool
		if ok, seen = recv.has(want...); ok || time.Now().After(deadline) {
			if !ok {
				t.Fatalf("spans %v not all exported; the receiver got: %s", want, strings.Join(seen, ", "))
			}
			break
		}
	}
}
