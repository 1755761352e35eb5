package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/ekmsync/ekmsync/internal/ekm"
	"github.com/ekmsync/ekmsync/internal/store"
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
func (b *progressBar) show(p workflows.ListingProgress, now time.Time) {
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
func progressLine(p workflows.ListingProgress, now time.Time) (line, key string) {
	pct := p.Percent()
	filled := 0
	if pct >= 0 {
		filled = int(pct / 100 * barWidth)
	}
	bar := "[" + strings.Repeat("#", filled) + strings.Repeat("-", barWidth-filled) + "]"
	head := fmt.Sprintf("%s %s", p.Channel, bar)
	if pct < 0 || p.Phase != workflows.ListingDownloading {
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
	return key + "  ETA " + etaText(p.ListingDownloadState, now), key
}

// etaText is the Estimated Completion as an operator reads it: a time in UTC and
// how far off it is, "unknown" until the first page tells the total, "-" when no
// download runs.
func etaText(st store.ListingDownloadState, now time.Time) string {
	switch {
	case !st.InProgress:
		return "-"
	case st.EstimatedCompletion == nil:
		return "unknown"
	}
	left := st.EstimatedCompletion.Sub(now).Round(time.Second)
	if left < 0 {
		left = 0
	}
	return fmt.Sprintf("%s UTC (in %s)", utc(st.EstimatedCompletion), left)
}
