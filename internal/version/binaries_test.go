package version

import (
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// buildStamped builds the three binaries the way the Makefile and the Dockerfile do,
// with v as the stamped version, into a temporary folder.
func buildStamped(t *testing.T, v string) string {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("go", "build", "-ldflags", "-X github.com/ekmsync/ekmsync/internal/version.Version="+v,
		"-o", dir+string(filepath.Separator), "./worker", "./starter", "./cmd/ekmsim")
	cmd.Dir = filepath.Join("..", "..")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return dir
}

func TestBinariesPrintTheStampedVersion(t *testing.T) {
	dir := buildStamped(t, "v1.2.3-test")
	for _, tc := range []struct {
		binary string
		args   []string
		want   string
	}{
		{"worker", []string{"--version"}, "worker v1.2.3-test"},
		{"starter", []string{"version"}, "starter v1.2.3-test"},
		{"starter", []string{"version", "--json"}, `"version": "v1.2.3-test"`},
		{"ekmsim", []string{"-version"}, "ekmsim v1.2.3-test"},
	} {
		out, err := exec.Command(filepath.Join(dir, tc.binary), tc.args...).CombinedOutput()
		if err != nil || !strings.Contains(string(out), tc.want) {
			t.Errorf("%s %v: %v, output %q, want %q", tc.binary, tc.args, err, out, tc.want)
		}
	}

	// The worker's --probe (the compose healthcheck in an image without curl) exits 0
	// only on a 200.
	for _, tc := range []struct {
		status int
		ok     bool
	}{{http.StatusOK, true}, {http.StatusServiceUnavailable, false}} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(tc.status) }))
		err := exec.Command(filepath.Join(dir, "worker"), "--probe", srv.URL+"/readyz").Run()
		srv.Close()
		if (err == nil) != tc.ok {
			t.Errorf("worker --probe against a %d: err %v, want success %v", tc.status, err, tc.ok)
		}
	}
}
