package browser_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// logFile writes a log of about n bytes named name and returns its path and content.
func logFile(t *testing.T, name string, n int) (string, []byte) {
	t.Helper()
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "2026-12-01T10:%02d:%02d.%03dZ INFO  http  GET /api/orders/%d 200 %dms ünïcödé\n", i/3600%60, i/60%60, i%1000, i*7919%100000, i%250)
	}
	p := filepath.Join(t.TempDir(), name)
	body := b.Bytes()[:n]
	if err := os.WriteFile(p, body, 0o644); err != nil {
		t.Fatal(err)
	}
	return p, body
}

// chooseFile picks path in the page's file input, as the file dialog would.
func chooseFile(t *testing.T, tb *tab, path string) {
	t.Helper()
	tb.do(t, "choose "+filepath.Base(path), chromedp.SetUploadFiles(chromedp.ID("file-input"), []string{path}))
}

// uploadAndRead clicks Upload, waits for the link and reads the paste back.
func uploadAndRead(t *testing.T, tb *tab, s *server) (string, *http.Response, string) {
	t.Helper()
	tb.do(t, "upload", chromedp.Click(chromedp.ID("upload")), chromedp.WaitVisible(chromedp.ID("paste-link")))
	link := eval[string](t, tb, `document.getElementById("paste-link").href`)
	if pasteURL.FindStringSubmatch(link) == nil {
		t.Fatalf("link %q is not a paste URL", link)
	}
	res, body := s.get(t, link)
	return link, res, body
}

func TestFileUpload(t *testing.T) {
	s := startServer(t, "-maxsize", "4")
	tb := newTab(t, 1200, 800)
	tb.navigate(t, s.URL+"/")
	tb.do(t, "type something first", chromedp.SendKeys(chromedp.ID("upload-textarea"), "typed before"))
	path, want := logFile(t, "app.log", 3<<20)
	chooseFile(t, tb, path)
	tb.waitFor(t, "the file's preview", `document.getElementById("upload-textarea").value.startsWith("2026-12-01T10:00:00.000Z")`)
	if got := run(t, tb, "file name", chromedp.Text(chromedp.ID("file-name"))); got != "app.log" {
		t.Errorf("file name shown %q, want app.log", got)
	}
	if got := run(t, tb, "file size", chromedp.Text(chromedp.ID("file-size"))); got != "3.0 MiB" {
		t.Errorf("file size shown %q, want 3.0 MiB", got)
	}
	if !eval[bool](t, tb, `document.getElementById("upload-textarea").readOnly`) {
		t.Errorf("the text area can be edited while a file is chosen")
	}
	tb.do(t, "pick an expiry", chromedp.SetValue(chromedp.ID("expires"), "1h"))
	uploaded := time.Now()
	link, res, body := uploadAndRead(t, tb, s)
	if res.StatusCode != http.StatusOK || body != string(want) {
		t.Fatalf("GET %s: %d with %d bytes, want 200 and the file's %d bytes", link, res.StatusCode, len(body), len(want))
	}
	expires, err := time.Parse(time.RFC3339, res.Header.Get("X-Paste-Expires"))
	if err != nil || expires.Sub(uploaded) < 59*time.Minute || expires.Sub(uploaded) > 61*time.Minute {
		t.Errorf("X-Paste-Expires %q: want about an hour from the upload", res.Header.Get("X-Paste-Expires"))
	}
	if del := eval[string](t, tb, `document.getElementById("delete-link").href`); !strings.Contains(del, "/delete/") || !strings.Contains(del, "#token=") {
		t.Errorf("delete link %q", del)
	}

	// Remove gives the typed text back, and Upload sends it, not the file.
	tb.do(t, "remove the file", chromedp.Click(chromedp.ID("file-clear")))
	if got := eval[string](t, tb, `document.getElementById("upload-textarea").value`); got != "typed before" {
		t.Errorf("after Remove the text area holds %q, want the typed text back", got)
	}
	if _, _, body := uploadAndRead(t, tb, s); body != "typed before" {
		t.Errorf("upload after Remove stored %q, want the typed text", body)
	}
}

// TestFileDrop drops a file on the page (not on the text area) the way a file manager does:
// a drag carrying a file, then the drop.
func TestFileDrop(t *testing.T) {
	s, tb := openPage(t)
	want := "dropped 1\ndropped 2 ✓\n"
	eval[chromedp.Void](t, tb, `window.dt = new DataTransfer();
		dt.items.add(new File([`+jsString(want)+`], "dropped.log", {type: "text/plain"}));
		document.querySelector("header").dispatchEvent(new DragEvent("dragover", {dataTransfer: dt, bubbles: true, cancelable: true}))`)
	if eval[bool](t, tb, `document.getElementById("drop-hint").hidden`) {
		t.Errorf("no drop hint while a file is dragged over the page")
	}
	eval[chromedp.Void](t, tb, `document.querySelector("header").dispatchEvent(new DragEvent("drop", {dataTransfer: dt, bubbles: true, cancelable: true}))`)
	if !eval[bool](t, tb, `document.getElementById("drop-hint").hidden`) {
		t.Errorf("the drop hint stays after the drop")
	}
	if got := run(t, tb, "file name", chromedp.Text(chromedp.ID("file-name"))); got != "dropped.log" {
		t.Errorf("file name shown %q, want dropped.log", got)
	}
	if got := run(t, tb, "file size", chromedp.Text(chromedp.ID("file-size"))); got != strconv.Itoa(len(want))+" bytes" {
		t.Errorf("file size shown %q, want %d bytes", got, len(want))
	}
	if _, res, body := uploadAndRead(t, tb, s); res.StatusCode != http.StatusOK || body != want {
		t.Errorf("GET: %d %q, want 200 %q", res.StatusCode, body, want)
	}
}

func TestFileTooLargeIsRefusedBeforeUpload(t *testing.T) {
	s := startServer(t, "-maxsize", "1")
	tb := newTab(t, 1200, 800)
	tb.navigate(t, s.URL+"/")
	path, _ := logFile(t, "big.log", 1<<20+1)
	chooseFile(t, tb, path)
	tb.waitFor(t, "the error line", `!document.getElementById("error").hidden`)
	// The server's own wording for a 413.
	if got, want := eval[string](t, tb, `document.getElementById("error").textContent`), "paste is larger than the limit of 1 MiB"; got != want {
		t.Errorf("error line %q, want %q", got, want)
	}
	if !eval[bool](t, tb, `document.getElementById("file-row").hidden`) {
		t.Errorf("the refused file shows as chosen")
	}
	for _, r := range tb.requestLines() {
		if strings.HasPrefix(r, "PUT ") || strings.HasPrefix(r, "POST ") {
			t.Errorf("the page sent %s for a file over the limit", r)
		}
	}
	// A file of exactly the limit goes.
	path, want := logFile(t, "limit.log", 1<<20)
	chooseFile(t, tb, path)
	if _, res, body := uploadAndRead(t, tb, s); res.StatusCode != http.StatusOK || body != string(want) {
		t.Errorf("file of exactly 1 MiB: %d with %d bytes, want 200 with %d", res.StatusCode, len(body), len(want))
	}
}

// throttle makes Chromium send at most bytesPerSecond, as over a slow uplink.
func throttle(bytesPerSecond float64) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
			MatchedNetworkConditions: []*network.Conditions{{Latency: 20, DownloadThroughput: -1, UploadThroughput: bytesPerSecond}},
		})
		return err
	})
}

func TestUploadProgressOverASlowLinkAndCancel(t *testing.T) {
	s := startServer(t, "-maxsize", "4")
	tb := newTab(t, 1200, 800)
	tb.navigate(t, s.URL+"/")
	tb.do(t, "throttle the uplink to 256 KiB/s", throttle(256<<10))
	path, want := logFile(t, "slow.log", 2<<20)
	chooseFile(t, tb, path)

	tb.do(t, "start the upload", chromedp.Click(chromedp.ID("upload")))
	tb.waitFor(t, "the progress bar under way", `(() => {
		const p = document.getElementById("progress");
		return !document.getElementById("progress-row").hidden && p.value > 0 && p.value < p.max;
	})()`)
	first := eval[float64](t, tb, `document.getElementById("progress").value`)
	tb.waitFor(t, "the progress bar to move on", `document.getElementById("progress").value > `+strconv.FormatFloat(first, 'f', -1, 64))
	shown := run(t, tb, "progress text", chromedp.Text(chromedp.ID("progress-text")))
	if !strings.HasSuffix(shown, " of 2.0 MiB sent") {
		t.Errorf("progress text %q, want \"… of 2.0 MiB sent\"", shown)
	}
	if !eval[bool](t, tb, `document.getElementById("upload").disabled`) {
		t.Errorf("Upload can be clicked again while an upload is under way")
	}

	tb.do(t, "cancel", chromedp.Click(chromedp.ID("cancel")))
	tb.waitFor(t, "the cancellation", `document.getElementById("error").textContent === "Upload cancelled."`)
	if !eval[bool](t, tb, `document.getElementById("progress-row").hidden && document.getElementById("result-box").hidden`) {
		t.Errorf("after Cancel the progress bar or a result still shows")
	}
	const stored = `"method":"PUT","path":"/","status":200`
	if strings.Contains(s.logText(), stored) {
		t.Errorf("a cancelled upload was stored:\n%s", s.logText())
	}

	// Again, to the end: the file arrives whole.
	tb.do(t, "upload again", chromedp.Click(chromedp.ID("upload")))
	tb.waitFor(t, "the progress bar under way", `document.getElementById("progress").value > 0`)
	tb.waitFor(t, "the link", `!document.getElementById("result-box").hidden`)
	link := eval[string](t, tb, `document.getElementById("paste-link").href`)
	if res, body := s.get(t, link); res.StatusCode != http.StatusOK || body != string(want) {
		t.Errorf("GET %s: %d with %d bytes, want 200 and the file's %d", link, res.StatusCode, len(body), len(want))
	}
	if !eval[bool](t, tb, `document.getElementById("progress-row").hidden && document.getElementById("error").hidden`) {
		t.Errorf("after the upload the progress bar or an error still shows")
	}
	s.waitLog(t, "the stored upload", func(log string) bool { return strings.Contains(log, stored) })
	if n := strings.Count(s.logText(), stored); n != 1 {
		t.Errorf("the server logged %d stored uploads, want 1 (the cancelled one never stored)", n)
	}
}
