package harness

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ekmsync/ekmsync/internal/store/storetest"
)

// front is what a deployment puts before several workers' public listeners: a
// load balancer. It forwards each request to the next worker in turn, and to
// the one after when a worker does not answer (killed), so that EKM's webhooks
// reach the task queue's workers as long as one of them is up.
type front struct {
	e    *Env
	next atomic.Uint64
}

// maxFrontBody bounds a request the front holds to forward again; the
// receiver's own, smaller bound still answers for it.
const maxFrontBody = 1 << 20

// frontClient forwards; each attempt ends within the receiver's own timeouts.
var frontClient = &http.Client{Timeout: 30 * time.Second}

// startFront listens on a port of its own and returns its base URL.
func (e *Env) startFront(t storetest.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen for the workers' front: %v", err)
	}
	srv := &http.Server{Handler: &front{e: e}, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}

// ServeHTTP forwards r to a worker that answers, or says 502 when none does.
func (f *front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxFrontBody))
	if err != nil {
		http.Error(w, "request body too large or cut", http.StatusRequestEntityTooLarge)
		return
	}
	n := len(f.e.workers)
	first := int(f.next.Add(1) % uint64(n))
	for k := range n {
		addr := f.e.workerConfig((first + k) % n).HTTPAddr
		req, err := http.NewRequestWithContext(r.Context(), r.Method, "http://"+string(addr)+r.URL.RequestURI(), bytes.NewReader(body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		req.Header = r.Header.Clone()
		resp, err := frontClient.Do(req)
		if err != nil {
			continue // this worker is down: the next
		}
		maps.Copy(w.Header(), resp.Header)
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
		_ = resp.Body.Close()
		return
	}
	http.Error(w, fmt.Sprintf("none of the %d workers answered", n), http.StatusBadGateway)
}

// linePrefixer writes whole lines to a shared log, each behind a prefix, so
// that several processes' lines stay whole and say whose they are.
type linePrefixer struct {
	prefix string
	to     io.Writer
	mu     sync.Mutex
	part   []byte // the start of a line not yet ended
}

// Write writes p's complete lines and keeps the rest for the next write.
func (l *linePrefixer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.part = append(l.part, p...)
	var out []byte
	for {
		i := bytes.IndexByte(l.part, '\n')
		if i < 0 {
			break
		}
		out = append(append(out, l.prefix...), l.part[:i+1]...)
		l.part = l.part[i+1:]
	}
	if len(out) > 0 {
		if _, err := l.to.Write(out); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}
