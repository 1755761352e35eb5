package ekmsim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Faults make the simulator fail the way a real API over a real network does,
// so the client's retries and idempotency are tested. Every draw comes from
// one seeded generator, so a sequence of requests meets the same faults on
// every run.

type faultKind uint8

const (
	faultNone faultKind = iota
	faultServerError
	faultRateLimited
	faultConnReset
	faultMalformed
	faultTruncated
)

// faultDecision is what happens to one API request.
type faultDecision struct {
	kind    faultKind
	status  int           // for faultServerError
	latency time.Duration // added before anything else
}

// injector draws fault decisions.
type injector struct {
	mu        sync.Mutex
	rng       *rand.Rand
	faults    Faults
	burstLeft int // 429s still owed by a running burst
	counts    FaultCounts
}

// FaultCounts counts the faults injected so far (GET /admin/requests reports
// them beside the request counts), so a run can say what it survived.
type FaultCounts struct {
	ServerErrors int `json:"server_errors"` // 500, 502 and 503 answers
	RateLimited  int `json:"rate_limited"`  // injected 429s, bursts counted request by request
	Bursts       int `json:"bursts"`        // 429 bursts started
	Slow         int `json:"slow"`          // answers delayed by LatencyDuration
	ConnResets   int `json:"conn_resets"`
	Malformed    int `json:"malformed"`
	Truncated    int `json:"truncated"`
}

func newInjector(seed int64, f Faults) *injector {
	return &injector{rng: rand.New(rand.NewPCG(uint64(seed), 0x6661756c7473)), faults: f}
}

// serverErrors are the statuses of injected server errors, in equal thirds.
var serverErrors = [...]int{http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable}

// Burst lengths: a burst answers 429 to 3 to 10 requests in all.
const (
	minBurst = 3
	maxBurst = 10
)

// decide draws the decision for one request. Every call draws the same
// number of values whatever fires, so one fault's probability does not shift
// the sequence another sees.
func (in *injector) decide() faultDecision {
	in.mu.Lock()
	defer in.mu.Unlock()
	f := in.faults
	draws := [6]float64{}
	for i := range draws {
		draws[i] = in.rng.Float64()
	}
	which, burst := in.rng.IntN(len(serverErrors)), minBurst+in.rng.IntN(maxBurst-minBurst+1)
	var d faultDecision
	if draws[0] < f.Latency {
		d.latency = f.LatencyDuration
	}
	switch {
	case in.burstLeft > 0:
		in.burstLeft--
		d.kind = faultRateLimited
	case draws[1] < f.ServerError:
		d.kind, d.status = faultServerError, serverErrors[which]
	case draws[2] < f.RateLimitBurst:
		in.burstLeft = burst - 1
		in.counts.Bursts++
		d.kind = faultRateLimited
	case draws[3] < f.ConnReset:
		d.kind = faultConnReset
	case draws[4] < f.Malformed:
		d.kind = faultMalformed
	case draws[5] < f.Truncated:
		d.kind = faultTruncated
	}
	return d
}

// count adds a decision to the counters as it is applied.
func (in *injector) count(d faultDecision) {
	in.mu.Lock()
	defer in.mu.Unlock()
	c := &in.counts
	if d.latency > 0 {
		c.Slow++
	}
	switch d.kind {
	case faultServerError:
		c.ServerErrors++
	case faultRateLimited:
		c.RateLimited++
	case faultConnReset:
		c.ConnResets++
	case faultMalformed:
		c.Malformed++
	case faultTruncated:
		c.Truncated++
	}
}

// resetCounts zeroes the counters and ends any running burst.
func (in *injector) resetCounts() {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.counts, in.burstLeft = FaultCounts{}, 0
}

// counted returns the fault counters.
func (in *injector) counted() FaultCounts {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.counts
}

// set replaces the fault probabilities and ends any running burst.
func (in *injector) set(f Faults) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.faults, in.burstLeft = f, 0
}

// get returns the current fault probabilities.
func (in *injector) get() Faults {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.faults
}

// serveFaulty runs h for an API request, applying the drawn fault. Server
// errors, 429 bursts and resets happen before h runs (nothing is processed);
// malformed and truncated bodies are cut from h's real answer (the request
// was processed, the client cannot tell); an injected 429 carries the
// Retry-After of limit, the request's rate accounting.
// A fault is counted once applied: a client that gave up during the latency
// never saw the rest.
func (in *injector) serveFaulty(d faultDecision, limit limitResult, w http.ResponseWriter, r *http.Request, h http.HandlerFunc) {
	if d.latency > 0 {
		// Read the body first: only then does the server notice a client that
		// hangs up during the wait (and stop waiting, as EKM would).
		if r.Body != nil {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		if err := sleepCtx(r.Context(), d.latency); err != nil {
			return
		}
	}
	in.count(d)
	switch d.kind {
	case faultServerError:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(d.status)
		_, _ = w.Write([]byte(serverErrorBody))
	case faultRateLimited:
		w.Header().Set("X-EKM-RateLimit-Remaining", "0")
		writeRateLimited(w, limit.retryAfter())
	case faultConnReset:
		resetConnection(w)
	case faultMalformed, faultTruncated:
		buf := &bufferedResponse{header: http.Header{}}
		h(buf, r)
		body := buf.body.Bytes()
		cut := body[:len(body)/2]
		for k, v := range buf.header {
			w.Header()[k] = v
		}
		length := len(cut)
		if d.kind == faultTruncated {
			length = len(body) // announce it all, send half; the server then closes the connection
		}
		w.Header().Set("Content-Length", strconv.Itoa(length))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(cut)
	default:
		h(w, r)
	}
}

// resetConnection closes the client's connection without a response: a TCP
// reset when the connection can be hijacked, otherwise an aborted handler
// (which net/http and the tests' in-memory transport also treat as a cut).
func resetConnection(w http.ResponseWriter) {
	if c, ok := w.(interface{ cut() }); ok {
		c.cut()
	}
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0) // close with RST, like a dropped connection
	}
	_ = conn.Close()
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("ekmsim: wait interrupted: %w", ctx.Err())
	}
}

// bufferedResponse captures a handler's answer so that a fault can cut it.
type bufferedResponse struct {
	header http.Header
	body   bytes.Buffer
	status int
}

// Header returns the captured headers.
func (b *bufferedResponse) Header() http.Header { return b.header }

// Write captures body bytes.
func (b *bufferedResponse) Write(p []byte) (int, error) { return b.body.Write(p) }

// WriteHeader captures the status, which the fault then replaces with 200.
func (b *bufferedResponse) WriteHeader(status int) { b.status = status }

// faultsJSON is Faults on the wire: the latency as a Go duration string.
type faultsJSON struct {
	ServerError     float64 `json:"server_error"`
	RateLimitBurst  float64 `json:"rate_limit_burst"`
	Latency         float64 `json:"latency"`
	LatencyDuration string  `json:"latency_duration"`
	ConnReset       float64 `json:"conn_reset"`
	Malformed       float64 `json:"malformed"`
	Truncated       float64 `json:"truncated"`
}

// MarshalJSON writes the faults with latency_duration as a duration string ("250ms").
func (f Faults) MarshalJSON() ([]byte, error) {
	return json.Marshal(faultsJSON{
		ServerError: f.ServerError, RateLimitBurst: f.RateLimitBurst, Latency: f.Latency,
		LatencyDuration: f.LatencyDuration.String(), ConnReset: f.ConnReset, Malformed: f.Malformed,
		Truncated: f.Truncated,
	})
}

// UnmarshalJSON reads faults; latency_duration is a duration string ("250ms").
func (f *Faults) UnmarshalJSON(b []byte) error {
	var j faultsJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return fmt.Errorf("ekmsim: faults: %w", err)
	}
	var d time.Duration
	if j.LatencyDuration != "" {
		var err error
		if d, err = time.ParseDuration(j.LatencyDuration); err != nil {
			return fmt.Errorf("ekmsim: faults latency_duration: %w", err)
		}
	}
	*f = Faults{
		ServerError: j.ServerError, RateLimitBurst: j.RateLimitBurst, Latency: j.Latency,
		LatencyDuration: d, ConnReset: j.ConnReset, Malformed: j.Malformed, Truncated: j.Truncated,
	}
	return nil
}
