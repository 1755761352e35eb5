package ekmsim

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ekmsync/ekmsync/internal/ekm"
)

// memTransport serves requests by calling a handler in-process: no sockets,
// so it also works inside a testing/synctest bubble. Like a real connection,
// an aborted handler (the reset fault) is a transport error, and a body
// shorter than its Content-Length ends in io.ErrUnexpectedEOF.
type memTransport struct{ h http.Handler }

// errConnReset is what memTransport returns for an aborted handler.
var errConnReset = errors.New("memTransport: connection reset")

func (m memTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	done := make(chan bool, 1)
	go func() { done <- serveCatchingAbort(m.h, rec, req) }()
	var aborted bool
	select {
	case aborted = <-done:
	case <-req.Context().Done():
		return nil, req.Context().Err() // the handler finishes on its own
	}
	if aborted {
		return nil, errConnReset
	}
	res := rec.Result()
	res.Request = req
	if n, err := strconv.Atoi(rec.Header().Get("Content-Length")); err == nil && n > rec.Body.Len() {
		res.Body = io.NopCloser(io.MultiReader(bytes.NewReader(rec.Body.Bytes()), errReader{io.ErrUnexpectedEOF}))
	}
	return res, nil
}

// serveCatchingAbort runs h and reports whether it aborted with
// http.ErrAbortHandler.
func serveCatchingAbort(h http.Handler, w http.ResponseWriter, r *http.Request) (aborted bool) {
	defer func() {
		if p := recover(); p != nil {
			if p != http.ErrAbortHandler {
				panic(p)
			}
			aborted = true
		}
	}()
	h.ServeHTTP(w, r)
	return false
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// testBase is the base URL of in-memory requests.
const testBase = "http://ekm.test"

// tclient is a test's view of the API: requests go through a real
// http.Client, in memory, with a bearer token.
type tclient struct {
	t     testing.TB
	hc    *http.Client
	token string
}

// newClient returns a client for sim with a consented token pair's access token.
func newClient(t testing.TB, sim *Sim) *tclient {
	t.Helper()
	access, _ := sim.IssueTokens()
	return &tclient{t: t, hc: memClient(sim), token: access}
}

// memClient is an http.Client that reaches sim in memory and does not follow
// redirects (the OAuth tests look at them).
func memClient(sim *Sim) *http.Client {
	return &http.Client{
		Transport:     memTransport{sim.Handler()},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// response is a read answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request; body, if not nil, is sent as JSON (or as is for []byte).
func (c *tclient) do(method, path string, body any) *response {
	c.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			c.t.Fatalf("marshal body: %v", err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, testBase+path, rd)
	if err != nil {
		c.t.Fatalf("new request: %v", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: b}
}

func (c *tclient) get(path string) *response { c.t.Helper(); return c.do(http.MethodGet, path, nil) }
func (c *tclient) put(path string, body any) *response {
	c.t.Helper()
	return c.do(http.MethodPut, path, body)
}

// postForm posts a form to the token endpoint without a bearer token.
func postForm(t testing.TB, hc *http.Client, path string, form url.Values) *response {
	t.Helper()
	resp, err := hc.PostForm(testBase+path, form)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("POST %s: reading body: %v", path, err)
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: b}
}

// want fails the test unless the status is the expected one.
func (r *response) want(t testing.TB, status int) *response {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body: %s", r.status, status, r.body)
	}
	return r
}

// envelope decodes the body as EKM's envelope.
func (r *response) envelope(t testing.TB) ekm.Envelope {
	t.Helper()
	var env ekm.Envelope
	if err := json.Unmarshal(r.body, &env); err != nil {
		t.Fatalf("decoding envelope: %v; body: %s", err, r.body)
	}
	return env
}

// data decodes the envelope's data into a T.
func data[T any](t testing.TB, r *response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.envelope(t).Data, &v); err != nil {
		t.Fatalf("decoding data: %v; body: %s", err, r.body)
	}
	return v
}

// wantValidation checks an error envelope's status, member names and message.
func (r *response) wantValidation(t testing.TB, status int, members []string, message string) {
	t.Helper()
	r.want(t, status)
	env := r.envelope(t)
	if string(env.Data) != "null" || len(env.ValidationResult) != 1 {
		t.Fatalf("want one validation error and null data, got %s", r.body)
	}
	v := env.ValidationResult[0]
	if v.ErrorMessage != message || !equalStrings(v.MemberNames, members) {
		t.Fatalf("validation %+v, want members %v message %q", v, members, message)
	}
	if members == nil && !bytes.Contains(r.body, []byte(`"member_names":null`)) {
		t.Fatalf("member_names should be null: %s", r.body)
	}
}

// listMeta decodes a list envelope's meta.
func (r *response) listMeta(t testing.TB) ekm.ListMeta {
	t.Helper()
	var env struct {
		Meta ekm.ListMeta `json:"meta"`
	}
	if err := json.Unmarshal(r.body, &env); err != nil {
		t.Fatalf("decoding meta: %v", err)
	}
	return env.Meta
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) || (a == nil) != (b == nil) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// smallShop is a small seeded shop for quick tests.
func smallShop() Options {
	return Options{Seed: 7, Products: 60, VariantShare: 0.3, SKUProblems: 6, Orders: 80}
}

// urlQuery escapes a query parameter value.
func urlQuery(s string) string { return url.QueryEscape(s) }

// fakeClock is a settable clock for tests outside synctest.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// startTCP serves sim on a loopback port and returns a function that sends a
// request there with a fresh consented bearer token.
func startTCP(t *testing.T, sim *Sim) (send func(method, path, body string) (*http.Response, error), base string) {
	t.Helper()
	srv, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	access, _ := sim.IssueTokens()
	return func(method, path, body string) (*http.Response, error) {
		req, err := http.NewRequest(method, srv.URL()+path, strings.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+access)
		return http.DefaultClient.Do(req)
	}, srv.URL()
}
