// Package e2e holds the integration tests: the real Temporal dev server, the real
// PostgreSQL, the EKM simulator and the worker, driven through the starter CLI's
// code (internal/harness). Each feature has its own file.
package e2e

import (
	"testing"

	"github.com/ekmsync/ekmsync/internal/cli"
	"github.com/ekmsync/ekmsync/internal/temporaltest"
)

func TestMain(m *testing.M) { temporaltest.Main(m) }

// jsonInto decodes a command's --json output.
func jsonInto(out string, v any) error { return cli.UnmarshalJSON([]byte(out), v) }
