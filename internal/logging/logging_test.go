package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/testsuite"
)

// TestJSONLogsCarryTheActivity: with EKMSYNC_LOG_FORMAT=json, a line logged with
// an activity's context is one JSON object with the workflow id, activity type
// and attempt; a line logged outside an activity has none of them.
func TestJSONLogsCarryTheActivity(t *testing.T) {
	var buf bytes.Buffer
	logger := NewLogger(&buf, true, slog.LevelInfo)
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	logs := func(ctx context.Context) error {
		logger.InfoContext(ctx, "inside", "channel", "shop")
		return nil
	}
	env.RegisterActivityWithOptions(logs, activity.RegisterOptions{Name: "LogSomething"})
	if _, err := env.ExecuteActivity("LogSomething"); err != nil {
		t.Fatal(err)
	}
	logger.Info("outside")

	lines := bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n"))
	if len(lines) != 2 {
		t.Fatalf("want 2 lines, got %d:\n%s", len(lines), buf.String())
	}
	var inside, outside map[string]any
	if err := json.Unmarshal(lines[0], &inside); err != nil {
		t.Fatalf("not JSON: %s", lines[0])
	}
	if err := json.Unmarshal(lines[1], &outside); err != nil {
		t.Fatalf("not JSON: %s", lines[1])
	}
	if inside["msg"] != "inside" || inside["ActivityType"] != "LogSomething" || inside["WorkflowID"] == nil ||
		inside["Attempt"] != float64(1) || inside["channel"] != "shop" {
		t.Errorf("activity line lacks its identity: %s", lines[0])
	}
	if outside["ActivityType"] != nil || outside["WorkflowID"] != nil {
		t.Errorf("line outside an activity names one: %s", lines[1])
	}
}
