package uitest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumPaths are where Debian, other distributions and macOS install
// Chromium or Chrome.
var chromiumPaths = []string{"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome",
	"/Applications/Chromium.app/Contents/MacOS/Chromium", "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome"}

// findChromium returns the browser binary: $EKMSYNC_CHROMIUM, or a known path,
// or chromium on the PATH.
func findChromium() (string, error) {
	if p := os.Getenv("EKMSYNC_CHROMIUM"); p != "" {
		return p, nil
	}
	for _, p := range chromiumPaths {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("Chromium is needed for the browser test and was not found: " + installHint() + ", or set EKMSYNC_CHROMIUM to a Chromium or Chrome binary")
}

// ensureChromium finds Chromium, or installs Debian's package as .ci/run does
// when it can (root, with apt-get): 'make test' sets itself up where it may.
// Otherwise it fails at once with the command that fixes it.
func ensureChromium() (string, error) {
	p, err := findChromium()
	if err == nil {
		return p, nil
	}
	apt, aptErr := exec.LookPath("apt-get")
	if runtime.GOOS != "linux" || os.Geteuid() != 0 || aptErr != nil {
		return "", err
	}
	fmt.Fprintln(os.Stderr, "uitest: Chromium is not installed: installing Debian's chromium package (apt-get install chromium)")
	for _, args := range [][]string{{"update", "-qq"}, {"install", "-y", "-qq", "chromium"}} {
		cmd := exec.Command(apt, args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("apt-get %s: %w\n%s", strings.Join(args, " "), err, out)
		}
	}
	return findChromium()
}

// installHint is the command that installs Chromium on this machine.
func installHint() string {
	switch {
	case runtime.GOOS == "darwin":
		return "install it with 'brew install --cask chromium'"
	case hasCommand("apt-get"):
		return "install it with 'sudo apt-get install chromium' (as root, make test does it)"
	case hasCommand("dnf"):
		return "install it with 'sudo dnf install chromium'"
	}
	return "install Chromium with your package manager"
}

func hasCommand(name string) bool {
	_, err := exec.LookPath(name)
	return err == nil
}

// newBrowser starts headless Chromium for the test, with the flags a closed
// network and a root user need, and returns a tab's context.
func newBrowser(t *testing.T, timeout time.Duration) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), // found, or installed, by TestMain
		chromedp.NoSandbox,
		chromedp.WindowSize(1440, 1000),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	tabCtx, cancelTab := chromedp.NewContext(allocCtx)
	ctx, cancel := context.WithTimeout(tabCtx, timeout)
	t.Cleanup(func() { cancel(); cancelTab(); cancelAlloc() })
	return ctx
}
