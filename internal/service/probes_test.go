package service

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/ekmsync/ekmsync/internal/store/storetest"
	"github.com/ekmsync/ekmsync/internal/temporaltest"
)

// Liveness ignores the dependencies and the shutdown; readiness answers 200 with
// PostgreSQL and Temporal up, and 503 once the worker is stopping.
func TestLivenessAndReadinessProbesDiffer(t *testing.T) {
	db := storetest.New(t)
	tc := temporaltest.Client(t)
	ctx, stop := context.WithCancel(context.Background())
	mux := http.NewServeMux()
	mountProbes(ctx, mux, db.Pool, tc)
	status := func(path string) int {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec.Code
	}
	if got := status("/livez"); got != http.StatusOK {
		t.Fatalf("/livez = %d while running, want 200", got)
	}
	if got := status("/readyz"); got != http.StatusOK {
		t.Fatalf("/readyz = %d with PostgreSQL and Temporal up, want 200", got)
	}
	stop()
	if got := status("/readyz"); got != http.StatusServiceUnavailable {
		t.Fatalf("/readyz = %d while stopping, want 503", got)
	}
	if got := status("/livez"); got != http.StatusOK {
		t.Fatalf("/livez = %d while stopping, want 200 (a draining worker must not be killed early)", got)
	}
}

func TestWithPoolSizeKeepsAnExplicitSize(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://u@h:5432/db?sslmode=disable":                  "postgres://u@h:5432/db?pool_max_conns=20&sslmode=disable",
		"postgres://u@h:5432/db?pool_max_conns=5&sslmode=disable": "postgres://u@h:5432/db?pool_max_conns=5&sslmode=disable",
		"host=h dbname=db": "host=h dbname=db",
	} {
		if got := withPoolSize(in); got != want {
			t.Errorf("withPoolSize(%q) = %q, want %q", in, got, want)
		}
	}
}
