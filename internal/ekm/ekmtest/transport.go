// Package ekmtest holds test helpers for code that talks to EKM through an
// http.Handler, such as the simulator's, without a socket.
package ekmtest

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
)

// Client returns an http.Client whose requests are served by h in memory.
// Inside testing/synctest this lets fake time pass instantly, which a real
// socket would not; outside it, it spares tests a listener.
func Client(h http.Handler) *http.Client {
	return &http.Client{Transport: Transport{Handler: h}}
}

// Transport is an http.RoundTripper that serves each request with Handler.
type Transport struct {
	Handler http.Handler
}

// ErrReset is returned for a request whose handler cut the connection.
var ErrReset = errors.New("ekmtest: connection reset by peer")

// RoundTrip implements http.RoundTripper. A handler that aborts (panics with
// http.ErrAbortHandler) or hijacks the connection yields ErrReset, as a cut
// connection would over a socket. Any other panic is a bug and is re-raised.
func (t Transport) RoundTrip(req *http.Request) (resp *http.Response, err error) {
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	served := req.Clone(req.Context())
	served.Body = http.NoBody
	if req.Body != nil {
		body, rerr := io.ReadAll(req.Body)
		_ = req.Body.Close()
		if rerr != nil {
			return nil, rerr
		}
		served.Body = io.NopCloser(bytes.NewReader(body))
	}
	defer func() {
		if r := recover(); r != nil {
			if r != http.ErrAbortHandler {
				panic(r)
			}
			resp, err = nil, ErrReset
		}
	}()
	rec := &recorder{ResponseRecorder: httptest.NewRecorder()}
	t.Handler.ServeHTTP(rec, served)
	if rec.hijacked {
		return nil, ErrReset
	}
	res := rec.Result()
	res.Request = req
	return res, nil
}

// recorder records a response and notes a Hijack.
type recorder struct {
	*httptest.ResponseRecorder
	hijacked bool
}

// Hijack hands the handler one end of a pipe whose other end is closed, and
// marks the exchange as a reset.
func (r *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	r.hijacked = true
	local, remote := net.Pipe()
	_ = remote.Close()
	return local, bufio.NewReadWriter(bufio.NewReader(local), bufio.NewWriter(local)), nil
}
