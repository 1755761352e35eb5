package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
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

// 'starter setup' on a namespace that holds another application's search attribute
// stops with exit 1 and says to give ekmsync a namespace of its own, registering
// nothing.
func TestSetupRefusesANamespaceSharedWithAnotherApplication(t *testing.T) {
	h := harness.New(t, harness.Options{NoChannel: true})
	ctx := context.Background()
	ns := fmt.Sprintf("shared-%d", time.Now().UnixNano())
	_, err := h.Temporal.WorkflowService().RegisterNamespace(ctx, &workflowservice.RegisterNamespaceRequest{
		Namespace: ns, WorkflowExecutionRetentionPeriod: durationpb.New(24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	h.Eventually(30*time.Second, "another application registers its attribute", func() bool {
		_, err := h.Temporal.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
			Namespace: ns, SearchAttributes: map[string]enums.IndexedValueType{"CustomerTier": enums.INDEXED_VALUE_TYPE_KEYWORD}})
		return err == nil
	})
	h.Config.Namespace = ns
	_, stderr, code := h.CLI("setup")
	if code != 1 || !strings.Contains(stderr, "namespace of its own") || !strings.Contains(stderr, "CustomerTier") {
		t.Fatalf("setup on a shared namespace: exit %d, stderr %q", code, stderr)
	}
	list, err := h.Temporal.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	if _, registered := list.GetCustomAttributes()[workflows.SAChannel.GetName()]; registered {
		t.Fatalf("setup registered %s in a shared namespace", workflows.SAChannel.GetName())
	}
}
