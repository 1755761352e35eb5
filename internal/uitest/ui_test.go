package uitest

import (
	"context"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/ekmsync/ekmsync/internal/contract"
	"github.com/ekmsync/ekmsync/internal/devserver"
	"github.com/ekmsync/ekmsync/internal/ekmsim"
	"github.com/ekmsync/ekmsync/internal/harness"
	"github.com/ekmsync/ekmsync/workflows"
)

// The operator's view: filter the Web UI's workflow list by EkmChannel and
// EkmListingDownloadInProgress, open the running listing download, and see its
// progress; the screenshot is saved under .test/screenshots.
func TestOperatorSeesListingDownloadProgressInTheWebUI(t *testing.T) {
	const channelName = "ui-shop"
	// A catalogue slow enough to download (about 150 pages at 2 requests a second)
	// that the download is still running while the browser looks at it.
	h := harness.New(t, harness.Options{Server: server, Channel: channelName,
		Sim: ekmsim.Options{Seed: 5, Products: 3000, VariantShare: 0.3, BucketSize: 4, LeakPerSecond: 2}})
	h.MustCLI("listings", "download", channelName)
	ctx := context.Background()
	id := workflows.ListingDownloadID(channelName)
	var progress contract.ListingProgress
	h.Eventually(60*time.Second, "the download reports its total and an estimate", func() bool {
		v, err := h.Temporal.QueryWorkflow(ctx, id, "", workflows.QueryProgress)
		if err != nil || v.Get(&progress) != nil {
			return false
		}
		return progress.PagesTotal != nil && progress.PagesDone >= 2 && progress.EstimatedCompletion != nil
	})
	query := `EkmChannel = "` + channelName + `" AND EkmListingDownloadInProgress = true`
	h.Eventually(30*time.Second, "visibility lists the running download", func() bool {
		resp, err := h.Temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: query})
		return err == nil && len(resp.Executions) == 1
	})

	b := newBrowser(t, 90*time.Second)
	listURL := server.UIURL() + "/namespaces/default/workflows?query=" + url.QueryEscape(query)
	link := chromedp.CSS(`a[href*="/workflows/` + url.QueryEscape(id) + `/"]`)
	if err := chromedp.Do(b, chromedp.Navigate(listURL), chromedp.WaitVisible(link)); err != nil {
		saveScreenshot(t, b, "listing-download-failed.png")
		t.Fatalf("the filtered workflow list does not show %s: %v", id, err)
	}
	listText := pageText(t, b)
	if !strings.Contains(listText, id) || !strings.Contains(listText, "ListingDownload") ||
		!strings.Contains(listText, "EkmChannel =") || !strings.Contains(listText, "EkmListingDownloadInProgress =") {
		t.Fatalf("the filtered list lacks the download:\n%s", listText)
	}
	if err := chromedp.Do(b, chromedp.Click(link)); err != nil {
		t.Fatal(err)
	}
	// The run's User Metadata tab shows its summary and current details, which say
	// in words how far it is: "page N of M".
	if err := clickText(b, "User Metadata"); err != nil {
		saveScreenshot(t, b, "listing-download-failed.png")
		t.Fatalf("the workflow page has no User Metadata tab: %v", err)
	}
	var detail string
	deadline := time.Now().Add(45 * time.Second)
	for {
		detail = pageText(t, b)
		if strings.Contains(detail, "Listing download of channel "+channelName) && // the summary
			strings.Contains(detail, "Listing download of "+channelName+": downloading") && // the details
			strings.Contains(detail, "of "+commas(*progress.PagesTotal)+" committed") && strings.Contains(detail, "Estimated completion") {
			break
		}
		if time.Now().After(deadline) {
			saveScreenshot(t, b, "listing-download-failed.png")
			t.Logf("%s", detail)
			t.Fatalf("the workflow page does not show the download's progress:\n%s", detail)
		}
		time.Sleep(500 * time.Millisecond)
	}
	path := saveScreenshot(t, b, "listing-download.png")
	t.Logf("screenshot of the running listing download: %s", path)
}

// clickText clicks the first link, button or tab whose text is exactly text, once
// it is on the page.
func clickText(b context.Context, text string) error {
	js := `(() => { const e = Array.from(document.querySelectorAll('a, button, [role=tab]')).find(e => e.innerText.trim() === ` +
		strconv.Quote(text) + `); if (!e) return false; e.click(); return true; })()`
	deadline := time.Now().Add(20 * time.Second)
	for {
		ok, err := chromedp.Run(b, chromedp.Evaluate[bool](js))
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("no element with the text " + strconv.Quote(text))
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// pageText is the text of the page, with that of its same-origin frames (the Web
// UI renders a workflow's current details, Markdown, in a frame).
func pageText(t *testing.T, b context.Context) string {
	t.Helper()
	text, err := chromedp.Run(b, chromedp.Evaluate[string](`document.body.innerText + "\n" +
		Array.from(document.querySelectorAll('iframe')).map(f => { try { return f.contentDocument.body.innerText } catch (e) { return "" } }).join("\n")`))
	if err != nil {
		t.Fatalf("read the page: %v", err)
	}
	return text
}

// saveScreenshot writes the tab's screenshot to .test/screenshots/name.
func saveScreenshot(t *testing.T, b context.Context, name string) string {
	t.Helper()
	shot, err := chromedp.Run(b, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	dir, err := devserver.OutputDir("screenshots")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// commas writes n with thousands separators, as the details do.
func commas(n int) string {
	s := []byte(strconv.Itoa(n))
	for i := len(s) - 3; i > 0; i -= 3 {
		s = append(s[:i], append([]byte(","), s[i:]...)...)
	}
	return string(s)
}
