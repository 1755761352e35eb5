package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/ekmsync/ekmsync/internal/contract"
	"github.com/ekmsync/ekmsync/internal/ekm"
	"github.com/ekmsync/ekmsync/internal/present"
	"github.com/ekmsync/ekmsync/workflows"
)

// progressBar draws a listing download's progress: on a terminal one line, redrawn
// in place; elsewhere (a log, a pipe) one line each time the progress moves.
type progressBar struct {
	w     io.Writer
	tty   bool
	drawn bool
	last  string // what the last line said, the countdown aside
}

func newProgressBar(w io.Writer) *progressBar {
	b := &progressBar{w: w}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			b.tty = true
		}
	}
	return b
}

// show draws p as of now.
func (b *progressBar) show(p contract.ListingProgress, now time.Time) {
	line, key := progressLine(p, now)
	if b.tty {
		fmt.Fprintf(b.w, "\r\033[K%s", line)
		b.drawn = true
		return
	}
	if key != b.last {
		fmt.Fprintln(b.w, line)
		b.last = key
	}
}

// end leaves the terminal on a fresh line.
func (b *progressBar) end() {
	if b.tty && b.drawn {
		fmt.Fprintln(b.w)
		b.drawn = false
	}
}

const barWidth = 24

// progressLine is one line of progress: a bar, pages, items (products and the
// listings made of them) and the estimated completion; key is the same line
// without what only the clock changes.
func progressLine(p contract.ListingProgress, now time.Time) (line, key string) {
	pct := p.Percent()
	filled := 0
	if pct >= 0 {
		filled = int(pct / 100 * barWidth)
	}
	bar := "[" + strings.Repeat("#", filled) + strings.Repeat("-", barWidth-filled) + "]"
	head := fmt.Sprintf("%s %s", p.Channel, bar)
	if pct < 0 || p.Phase != contract.ListingDownloading {
		if pct >= 0 {
			head += fmt.Sprintf(" %3.0f%%", pct)
		}
		line = head + "  " + p.Message
		return line, line
	}
	key = fmt.Sprintf("%s %3.0f%%  page %d/%d", head, pct, p.PagesDone, *p.PagesTotal)
	if p.ProductsTotal != nil {
		key += fmt.Sprintf("  %d/%d products", min(p.PagesDone*ekm.MaxPageSize, *p.ProductsTotal), *p.ProductsTotal)
	}
	key += fmt.Sprintf("  %d listings", p.ListingsSeen)
	if n := p.EmptySKUs + p.DuplicateSKUs; n > 0 {
		key += fmt.Sprintf(" (%d SKU problems)", n)
	}
	return key + "  ETA " + present.ETA(p.ListingDownloadState, now), key
}

// watchListingDownloadFor watches the download like watchListingDownload, for at
// most timeout (0: until it ends); when it gives up, its error says what the
// download was waiting for.
func (e *env) watchListingDownloadFor(ctx context.Context, id, name string, timeout time.Duration) (contract.ListingProgress, error) {
	if timeout < 0 {
		return contract.ListingProgress{}, usagef("--timeout must not be negative")
	}
	if timeout == 0 {
		return e.watchListingDownload(ctx, id)
	}
	wctx, stop := giveUpAfter(ctx, timeout)
	defer stop()
	res, err := e.watchListingDownload(wctx, id)
	if err == nil || !gaveUp(wctx) {
		return res, err
	}
	w, werr := e.workflows(ctx)
	if werr != nil {
		return res, fmt.Errorf("gave up after %s waiting for the listing download of %s", timeout, name)
	}
	why := e.waitingFor(ctx, w, id, name, false, func(ctx context.Context) []string {
		v, err := w.Client.QueryWorkflow(ctx, id, "", workflows.QueryProgress)
		var p contract.ListingProgress
		if err != nil || v.Get(&p) != nil {
			return nil
		}
		switch {
		case p.Phase == contract.ListingWaiting:
			return []string{"a refusal: " + p.Message}
		case strings.Contains(p.Message, "rate budget"):
			return []string{"the rate budget: " + p.Message}
		}
		return []string{"the download was " + string(p.Phase) + ": " + p.Message}
	})
	return res, fmt.Errorf("gave up after %s waiting for the listing download of %s: %s. The download goes on: follow it with 'starter listings status %s'",
		timeout, name, why, name)
}
