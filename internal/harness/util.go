package harness

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/ekmsync/ekmsync/internal/config"
	"github.com/ekmsync/ekmsync/internal/process"
)

var (
	buildOnce sync.Once
	builtPath string
	buildErr  error
)

// workerBinary builds the worker once per test binary.
func workerBinary() (string, error) {
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ekmsync-harness")
		if err != nil {
			buildErr = err
			return
		}
		builtPath, buildErr = process.Build(context.Background(), dir, "./worker")
	})
	return builtPath, buildErr
}

func secretText(k config.SecretKey) string {
	if len(k) == 0 {
		return ""
	}
	return base64.StdEncoding.EncodeToString(k)
}

func waitHTTP(url string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("%s answered %s", url, resp.Status)
		}
		last = err
		time.Sleep(100 * time.Millisecond)
	}
	return last
}

// syncBuffer is a bytes.Buffer safe for concurrent writers and readers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
