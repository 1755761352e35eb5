package cli

import (
	"context"
	"net/http"
	"os"
	"time"

	"github.com/ekmsync/ekmsync/internal/shop"
	"github.com/ekmsync/ekmsync/internal/store"
)

func channelCommand() *command {
	return &command{
		name:    "channel",
		summary: "add, inspect, configure and authorise EKM channels",
		subs: []*command{
			channelAddCommand(), channelListCommand(), channelShowCommand(), channelSetCommand(),
			channelToggleCommand(true), channelToggleCommand(false), channelTestCommand(),
			channelReauthoriseCommand(), channelRemoveCommand(),
		},
	}
}

// connector returns the starter's connection to EKM. The starter's calls are the
// operator's (add, test, reauthorise): they pass the Enabled gate.
func (e *env) connector(ctx context.Context) (*shop.Connector, *store.Store, error) {
	st, err := e.store(ctx)
	if err != nil {
		return nil, nil, err
	}
	key, err := e.key()
	if err != nil {
		return nil, nil, err
	}
	return &shop.Connector{Store: st, Key: key, HTTP: &http.Client{Timeout: 60 * time.Second}, IgnoreGate: true}, st, nil
}

func actor() string {
	if u := os.Getenv("USER"); u != "" {
		return "cli:" + u
	}
	return "cli"
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func utc(t *time.Time) string {
	if t == nil || t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.DateTime)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
