package harness

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/ekmsync/ekmsync/internal/config"
	"github.com/ekmsync/ekmsync/internal/process"
	"github.com/ekmsync/ekmsync/internal/webhook"
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

// WebhookURL is the URL the simulator (as EKM) posts the channel's order webhooks
// to, token included: the only place the token is known outside the hub's hash.
func (e *Env) WebhookURL() (string, error) {
	var found string
	for _, s := range e.Sim.Subscriptions() {
		if !strings.Contains(s.Endpoint, webhook.PathPrefix+e.Channel+"/") {
			continue
		}
		if found != "" && found != s.Endpoint {
			return "", fmt.Errorf("two subscription URLs for channel %s: %s and %s", e.Channel, found, s.Endpoint)
		}
		found = s.Endpoint
	}
	if found == "" {
		return "", fmt.Errorf("the shop has no webhook subscription with a token for channel %s", e.Channel)
	}
	return found, nil
}
