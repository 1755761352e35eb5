package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ekmsync/ekmsync/internal/harness"
	"github.com/ekmsync/ekmsync/internal/observe"
)

// slackReceiver stands in for a Slack incoming webhook: it keeps the text of
// every message, and refuses them while failing is set.
type slackReceiver struct {
	mu      sync.Mutex
	texts   []string
	failing bool
	bad     []string
}

func (s *slackReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var msg map[string]string
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := json.Unmarshal(body, &msg); err != nil || len(msg) != 1 || msg["text"] == "" || r.Header.Get("Content-Type") != "application/json" {
		s.bad = append(s.bad, string(body))
		http.Error(w, "invalid_payload", http.StatusBadRequest)
		return
	}
	if s.failing {
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return
	}
	s.texts = append(s.texts, msg["text"])
	_, _ = w.Write([]byte("ok"))
}

func (s *slackReceiver) take() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.texts
	s.texts = nil
	return out
}

// TestNotificationsOncePerEventAcrossWorkers: two workers' notifiers checking the
// same hub at once send one Slack-compatible message per channel and event, each
// naming the channel, what happened and the command that fixes it; nothing more
// while the event holds; again once it cleared and recurred (after the debounce
// window); and a message the receiver refused is sent at the next check.
func TestNotificationsOncePerEventAcrossWorkers(t *testing.T) {
	recv := &slackReceiver{}
	srv := httptest.NewServer(recv)
	defer srv.Close()
	h := harness.New(t, harness.Options{Channel: "notified"})
	ctx := context.Background()
	id := h.Settings().ID
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := h.DB.Pool.Exec(ctx, sql, args...); err != nil {
			t.Fatal(err)
		}
	}
	workers := []*observe.Notifier{
		{Store: h.Store(), Temporal: h.Temporal, URL: srv.URL, Window: time.Hour},
		{Store: h.Store(), Temporal: h.Temporal, URL: srv.URL, Window: time.Hour},
	}
	checkAll := func() {
		t.Helper()
		var wg sync.WaitGroup
		errs := make([]error, len(workers))
		for i, n := range workers {
			wg.Add(1)
			go func() { defer wg.Done(); errs[i] = n.Check(ctx) }()
		}
		wg.Wait()
		recv.mu.Lock()
		failing := recv.failing
		recv.mu.Unlock()
		for _, err := range errs {
			if err != nil && !failing {
				t.Fatal(err)
			}
		}
	}

	exec(`UPDATE channels SET auth_state = 'needs-reauth', auth_error = 'invalid_grant' WHERE id = $1`, id)
	exec(`INSERT INTO order_problems (channel_id, problem_key, reason, raw) VALUES ($1, '1', 'bad date', '{}'), ($1, '2', 'no lines', '{}')`, id)
	checkAll()
	texts := recv.take()
	if len(texts) != 2 {
		t.Fatalf("want one message per event (2), got %d: %q", len(texts), texts)
	}
	joined := strings.Join(texts, "\n")
	for _, want := range []string{"*notified*: needs reauthorisation", "`starter channel reauthorise notified`",
		"2 orders from EKM could not be read", "`starter orders problems notified`"} {
		if !strings.Contains(joined, want) {
			t.Errorf("messages lack %q:\n%s", want, joined)
		}
	}

	checkAll()
	if texts := recv.take(); len(texts) != 0 {
		t.Fatalf("events that still hold were sent again: %q", texts)
	}

	// Cleared, then back within the window: not sent again.
	exec(`UPDATE channels SET auth_state = 'ok', auth_error = NULL WHERE id = $1`, id)
	checkAll()
	exec(`UPDATE channels SET auth_state = 'needs-reauth', auth_error = 'invalid_grant' WHERE id = $1`, id)
	checkAll()
	if texts := recv.take(); len(texts) != 0 {
		t.Fatalf("a recurrence within the debounce window was sent: %q", texts)
	}

	// Cleared and back after the window: sent once more.
	for _, n := range workers {
		n.Window = time.Nanosecond
	}
	exec(`UPDATE channels SET auth_state = 'ok', auth_error = NULL WHERE id = $1`, id)
	checkAll()
	exec(`UPDATE channels SET auth_state = 'needs-reauth', auth_error = 'invalid_grant' WHERE id = $1`, id)
	checkAll()
	if texts := recv.take(); len(texts) != 1 || !strings.Contains(texts[0], "needs reauthorisation") {
		t.Fatalf("a recurrence after the window: want one message, got %q", texts)
	}

	// A refused message is sent at the next check.
	recv.mu.Lock()
	recv.failing = true
	recv.mu.Unlock()
	exec(`UPDATE channels SET enabled = true, order_sync_interval_seconds = 60 WHERE id = $1`, id)
	exec(`UPDATE channel_credentials SET refreshed_at = now() - interval '11 days' WHERE channel_id = $1`, id)
	checkAll()
	recv.mu.Lock()
	recv.failing = false
	recv.mu.Unlock()
	checkAll()
	if texts := recv.take(); len(texts) != 1 || !strings.Contains(texts[0], "refresh token is 11 days old") ||
		!strings.Contains(texts[0], "`starter channel reauthorise notified`") {
		t.Fatalf("after a refused send: want the refresh-token message once, got %q", texts)
	}
	// EKM's 429s, recorded by any worker, for 15 minutes.
	if err := h.Store().RecordThrottle(ctx, "notified"); err != nil {
		t.Fatal(err)
	}
	checkAll()
	if texts := recv.take(); len(texts) != 0 {
		t.Fatalf("a 429 just now is not yet worth a message: %q", texts)
	}
	exec(`UPDATE ekm_throttles SET first_at = now() - interval '20 minutes' WHERE channel_id = $1`, id)
	if err := h.Store().RecordThrottle(ctx, "notified"); err != nil {
		t.Fatal(err)
	}
	checkAll()
	if texts := recv.take(); len(texts) != 1 || !strings.Contains(texts[0], "kept answering 429") {
		t.Fatalf("20 minutes of 429s: want one message, got %q", texts)
	}

	// A loop workflow that stopped is told too.
	if err := h.Temporal.TerminateWorkflow(ctx, "channel-push:notified", "", "test: the loop stops"); err != nil {
		t.Fatal(err)
	}
	checkAll()
	if texts := recv.take(); len(texts) != 1 || !strings.Contains(texts[0], "channel-push:notified is not running") ||
		!strings.Contains(texts[0], "`starter channel enable notified`") {
		t.Fatalf("a stopped loop: want one message, got %q", texts)
	}
	if len(recv.bad) > 0 {
		t.Fatalf("messages that are not Slack's {\"text\": ...}: %q", recv.bad)
	}
}
