// Package uitest is the operator's view, tested in a real browser: headless
// Chromium (Debian's chromium package, installed by the test itself when it runs
// as root with apt-get; else it says how to install it) driven by chromedp opens the Temporal Web
// UI of a dev server, filters the workflows by ekmsync's search attributes, opens a
// running listing download and checks that its progress is shown.
package uitest

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/ekmsync/ekmsync/internal/devserver"
)

// server is the package's dev server, with its Web UI.
var server *devserver.Server

// chromium is the browser binary the tests drive.
var chromium string

func TestMain(m *testing.M) {
	code, err := run(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "uitest: "+err.Error())
		os.Exit(1)
	}
	os.Exit(code)
}

func run(m *testing.M) (int, error) {
	// The browser first: without it the test stops at once, before a dev server
	// starts, with the command that fixes it.
	var err error
	if chromium, err = ensureChromium(); err != nil {
		return 0, err
	}
	ui, err := devserver.FreePort()
	if err != nil {
		return 0, err
	}
	server, err = devserver.Start(context.Background(), devserver.Options{UIPort: ui, Stderr: os.Stderr})
	if err != nil {
		return 0, fmt.Errorf("a Temporal dev server with its Web UI is needed: %w", err)
	}
	defer server.Stop()
	return m.Run(), nil
}
