package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/ekmsync/ekmsync/internal/harness"
	"github.com/ekmsync/ekmsync/workflows"
)

// 'starter setup' registers every custom search attribute on a namespace that has
// none, and a second run changes nothing.
func TestSetupRegistersSearchAttributesIdempotently(t *testing.T) {
	h := harness.New(t, harness.Options{NoChannel: true})
	ns := fmt.Sprintf("setup-%d", time.Now().UnixNano())
	_, err := h.Temporal.WorkflowService().RegisterNamespace(context.Background(), &workflowservice.RegisterNamespaceRequest{
		Namespace: ns, WorkflowExecutionRetentionPeriod: durationpb.New(24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	h.Config.Namespace = ns
	type result struct {
		Registered []string `json:"registered"`
		Existing   []string `json:"already_registered"`
	}
	var first result
	h.Eventually(30*time.Second, "setup succeeds on the new namespace", func() bool {
		out, _, code := h.CLI("setup", "--json")
		first = result{}
		return code == 0 && jsonInto(out, &first) == nil
	})
	if len(first.Registered) != len(workflows.SearchAttributes) || len(first.Existing) != 0 {
		t.Fatalf("first setup: %+v", first)
	}
	var second result
	h.CLIJSON(&second, "setup")
	if len(second.Registered) != 0 || len(second.Existing) != len(workflows.SearchAttributes) {
		t.Fatalf("second setup: %+v", second)
	}
	if !strings.Contains(strings.Join(second.Existing, ","), "EkmListingDownloadInProgress") {
		t.Fatalf("second setup does not list the attributes: %+v", second)
	}
}
