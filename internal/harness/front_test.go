package harness

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ekmsync/ekmsync/internal/config"
	"github.com/ekmsync/ekmsync/internal/process"
)

// The front forwards a webhook to a worker that is up, skipping one that is
// down (killed), so that the others receive EKM's webhooks meanwhile.
func TestFrontSkipsAWorkerThatIsDown(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Path", r.URL.Path)
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write(body)
	}))
	defer up.Close()
	down, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	downAddr := down.Addr().String()
	_ = down.Close() // nothing listens there: a killed worker
	e := &Env{t: t, workers: make([]*process.Proc, 2),
		WorkerConfig: config.Worker{HTTPAddr: config.Addr(downAddr)},
		moreAddrs:    []listeners{{http: config.Addr(strings.TrimPrefix(up.URL, "http://"))}}}
	base := e.startFront(t)
	for i := range 4 { // both turns of the round robin
		resp, err := http.Post(base+"/webhooks/shop/token", "application/json", strings.NewReader(`{"entity_id":1}`))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted || string(body) != `{"entity_id":1}` || resp.Header.Get("X-Path") != "/webhooks/shop/token" {
			t.Errorf("post %d: %s %q (path %q), want the live worker's 202 with the body and path forwarded", i, resp.Status, body, resp.Header.Get("X-Path"))
		}
	}
	allDown := &Env{t: t, workers: make([]*process.Proc, 2), WorkerConfig: e.WorkerConfig,
		moreAddrs: []listeners{{http: config.Addr(downAddr)}}}
	resp, err := http.Post(allDown.startFront(t)+"/webhooks/shop/token", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway {
		t.Errorf("with every worker down: %s, want 502", resp.Status)
	}
}

// Several processes' output stays whole lines, each naming its process.
func TestLinePrefixerKeepsLinesWhole(t *testing.T) {
	var log syncBuffer
	a, b := &linePrefixer{prefix: "worker 1: ", to: &log}, &linePrefixer{prefix: "worker 2: ", to: &log}
	_, _ = a.Write([]byte("level=INFO msg=sta"))
	_, _ = b.Write([]byte("level=INFO msg=one\nlevel=INFO msg=tw"))
	_, _ = a.Write([]byte("rted\n"))
	_, _ = b.Write([]byte("o\n"))
	want := "worker 2: level=INFO msg=one\nworker 1: level=INFO msg=started\nworker 2: level=INFO msg=two\n"
	if got := log.String(); got != want {
		t.Errorf("log:\n%s\nwant:\n%s", got, want)
	}
}
