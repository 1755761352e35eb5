// Package logging builds the binaries' slog logger (text or JSON lines), which adds an
// activity's identity to every line logged with its context.
package logging

import (
	"context"
	"io"
	"log/slog"

	"go.temporal.io/sdk/activity"
)

// NewLogger returns the binaries' logger: JSON lines when json is true (for log
// collectors), else slog's text. Lines logged with an activity's context carry its
// workflow id, run id, activity type and attempt, whoever logs them (the EKM
// client, the token source), as the SDK's own activity logger does.
func NewLogger(w io.Writer, json bool, level slog.Leveler) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(w, opts)
	if json {
		h = slog.NewJSONHandler(w, opts)
	}
	return slog.New(activityHandler{h})
}

// activityHandler adds the activity's identity to records logged with its context.
type activityHandler struct{ slog.Handler }

func (h activityHandler) Handle(ctx context.Context, r slog.Record) error {
	if ctx != nil && activity.IsActivity(ctx) {
		info := activity.GetInfo(ctx)
		r = r.Clone()
		r.AddAttrs(slog.String("WorkflowID", info.WorkflowExecution.ID), slog.String("RunID", info.WorkflowExecution.RunID),
			slog.String("ActivityType", info.ActivityType.Name), slog.Int("Attempt", int(info.Attempt)))
	}
	return h.Handler.Handle(ctx, r)
}

func (h activityHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return activityHandler{h.Handler.WithAttrs(attrs)}
}

func (h activityHandler) WithGroup(name string) slog.Handler {
	return activityHandler{h.Handler.WithGroup(name)}
}
