package chaos

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/encoding/protojson"
)

// maxHistoryBytes bounds a saved history, so that the replay corpus stays small
// enough to keep in the repository.
const maxHistoryBytes = 1 << 20

// saveHistories writes, for each workflow type of the channel, the history of its
// run with the most events (under maxHistoryBytes) to dir as
// <type>.json, in the JSON form 'temporal workflow show --output json' writes and
// the SDK's replayer reads. Histories that went through worker kills, a database
// restart and the hostile input are what the replay tests of workflows/ guard.
func saveHistories(ctx context.Context, c client.Client, channel, dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	best := map[string][]byte{}
	events := map[string]int{}
	var token []byte
	for {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Query: fmt.Sprintf(`EkmChannel = %q`, channel), NextPageToken: token})
		if err != nil {
			return nil, fmt.Errorf("list the channel's runs: %w", err)
		}
		for _, e := range resp.Executions {
			h, err := history(ctx, c, e.GetExecution().GetWorkflowId(), e.GetExecution().GetRunId())
			if err != nil {
				return nil, err
			}
			b, err := protojson.MarshalOptions{Indent: " "}.Marshal(h)
			if err != nil {
				return nil, err
			}
			name := e.GetType().GetName()
			if len(b) <= maxHistoryBytes && len(h.Events) > events[name] {
				best[name], events[name] = b, len(h.Events)
			}
		}
		if token = resp.NextPageToken; len(token) == 0 {
			break
		}
	}
	var saved []string
	for name, b := range best {
		p := filepath.Join(dir, strings.ToLower(name)+".json")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return saved, err
		}
		saved = append(saved, fmt.Sprintf("%s (%d events)", p, events[name]))
	}
	return saved, nil
}

func history(ctx context.Context, c client.Client, id, runID string) (*historypb.History, error) {
	h := &historypb.History{}
	it := c.GetWorkflowHistory(ctx, id, runID, false, 0)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			return nil, fmt.Errorf("read the history of %s: %w", id, err)
		}
		h.Events = append(h.Events, e)
	}
	return h, nil
}
