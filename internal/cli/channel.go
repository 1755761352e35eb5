package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/ekmsync/ekmsync/internal/channel"

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
			channelReauthoriseCommand(), channelRemoveCommand(), channelDriftCommand(),
		},
	}
}

// enableResult is what 'channel enable' did: the settings change, and the first
// listing download it started (or found running).
type enableResult struct {
	setResult
	// ListingDownload is set when the channel had never completed a listing
	// download: without listings nothing links stock and prices to EKM, and the
	// Schedule's first run can be a whole listing interval away.
	ListingDownload *downloadResult `json:"listing_download,omitempty"`
}

func (r enableResult) text(w io.Writer) {
	r.setResult.text(w)
	if d := r.ListingDownload; d != nil {
		what := "started its first listing download"
		if d.AlreadyRunning {
			what = "has its first listing download running"
		}
		fmt.Fprintf(w, "%s %s (workflow %s): stock and prices are pushed to the listings it links once it completes.\n"+
			"Follow it with 'starter listings status %s'\n", r.Channel, what, d.WorkflowID, r.Channel)
		if d.Note != "" {
			fmt.Fprintf(w, "note: %s\n", d.Note)
		}
	}
}

// enableChannel enables the channel and, if it has never completed a listing
// download, starts one (docs/channel-semantics.md §5).
func enableChannel(ctx context.Context, e *env, name string) (result, error) {
	r, err := setSettings(ctx, e, name, []channel.Change{{Key: "enabled", Value: "on"}})
	if err != nil {
		return r, err
	}
	res := enableResult{setResult: r.(setResult)}
	if len(res.Changed) == 0 {
		e.ensureLoops(ctx, name) // enabled already: start its loops if they stopped
	}
	st, c, err := channelOf(ctx, e, name)
	if err != nil {
		return res, err
	}
	state, err := st.ListingDownload(ctx, c.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return res, err
	}
	if state.CompletionTime != nil {
		return res, nil
	}
	dl, err := e.startListingDownload(ctx, c)
	if err != nil {
		return res, fmt.Errorf("%s is enabled, but its first listing download did not start: %w; start it with 'starter listings download %s'", name, err, name)
	}
	res.ListingDownload = &dl
	return res, nil
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
