package browser_test

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
)

var pasteURL = regexp.MustCompile(`^(http://127\.0\.0\.1:\d+)/([A-Za-z0-9]{8})$`)

// upload types text into the page's text area (the page must be loaded),
// clicks Upload and returns the link the page shows.
func upload(t *testing.T, tb *tab, text string) string {
	t.Helper()
	tb.do(t, "type and upload",
		chromedp.Evaluate[chromedp.Void](`document.getElementById("upload-textarea").value = ""`),
		chromedp.SendKeys(chromedp.ID("upload-textarea"), text),
		chromedp.Click(chromedp.ID("upload")),
		chromedp.WaitVisible(chromedp.ID("paste-link")),
	)
	return eval[string](t, tb, `document.getElementById("paste-link").href`)
}

// uploadError uploads text set directly as the text area's value and returns
// what the page's error line says.
func uploadError(t *testing.T, tb *tab, text string) string {
	t.Helper()
	tb.do(t, "set text and upload",
		chromedp.Evaluate[chromedp.Void](`document.getElementById("error").hidden = true;
			document.getElementById("upload-textarea").value = `+jsString(text)),
		chromedp.Click(chromedp.ID("upload")),
		chromedp.WaitVisible(chromedp.ID("error")),
	)
	if !eval[bool](t, tb, `document.getElementById("result-box").hidden`) {
		t.Errorf("the result box shows after a rejected upload")
	}
	return eval[string](t, tb, `document.getElementById("error").textContent`)
}

func TestUploadPage(t *testing.T) {
	s := startServer(t)
	tb := newTab(t, 1200, 800)

	t.Run("type, upload, follow the link, read the same text", func(t *testing.T) {
		tb.navigate(t, s.URL+"/")
		// SendKeys types "\n" as the Enter key: the text area keeps "\n".
		want := "2026-11-26T09:14:03Z INFO worker started\n" +
			"2026-11-26T09:14:04Z WARN ünïcödé ✓ — 日本語 \"quotes\" <b>not html</b>\n\n" +
			"last line, no newline"
		tb.do(t, "type and pick an expiry",
			chromedp.SendKeys(chromedp.ID("upload-textarea"), want),
			chromedp.SetValue(chromedp.ID("expires"), "1d"),
		)
		if got := eval[string](t, tb, `document.getElementById("upload-textarea").value`); got != want {
			t.Fatalf("text area holds %q, want %q", got, want)
		}
		uploaded := time.Now()
		tb.do(t, "upload",
			chromedp.Click(chromedp.ID("upload")),
			chromedp.WaitVisible(chromedp.ID("paste-link")),
		)
		link := eval[string](t, tb, `document.getElementById("paste-link").href`)
		if shown := eval[string](t, tb, `document.getElementById("paste-link").textContent`); shown != link {
			t.Errorf("link text %q, want its href %q", shown, link)
		}
		m := pasteURL.FindStringSubmatch(link)
		if m == nil || m[1] != s.URL {
			t.Fatalf("link %q is not a paste URL of %s", link, s.URL)
		}

		res, body := s.get(t, link)
		if res.StatusCode != http.StatusOK || body != want {
			t.Fatalf("GET %s: %d %q, want 200 %q", link, res.StatusCode, body, want)
		}
		expires, err := time.Parse(time.RFC3339, res.Header.Get("X-Paste-Expires"))
		if err != nil {
			t.Fatalf("X-Paste-Expires %q: %v (the page's expiry choice was not sent)", res.Header.Get("X-Paste-Expires"), err)
		}
		if d := expires.Sub(uploaded); d < 23*time.Hour || d > 25*time.Hour {
			t.Errorf("paste expires %v after upload, want about 1 day", d)
		}

		tb.follow(t, "paste-link")
		if got := run(t, tb, "location", chromedp.Location()); got != link {
			t.Errorf("followed the link to %q, want %q", got, link)
		}
		if got := eval[string](t, tb, `document.querySelector("pre").textContent`); got != want {
			t.Errorf("the browser shows %q, want %q", got, want)
		}
	})

	t.Run("copy button", func(t *testing.T) {
		tb.navigate(t, s.URL+"/")
		link := upload(t, tb, "copy me")
		// 127.0.0.1 is a secure context, so the page takes the clipboard path.
		if !eval[bool](t, tb, `window.isSecureContext && !!navigator.clipboard`) {
			t.Fatal("no clipboard API on http://127.0.0.1: the test expects Chromium to offer it")
		}
		for _, p := range []string{"clipboard-read", "clipboard-write"} {
			_, err := chromedp.CallBrowser(tb.ctx, browser.SetPermission, browser.SetPermissionParams{
				Permission: &browser.PermissionDescriptor{Name: p},
				Setting:    browser.PermissionSettingGranted,
				Origin:     s.URL,
			})
			if err != nil {
				t.Fatalf("granting %s: %v", p, err)
			}
		}
		tb.do(t, "click Copy", chromedp.Click(chromedp.ID("copy-button")))
		tb.waitFor(t, "the Copied label", `document.getElementById("copy-button").textContent === "Copied"`)
		if got := eval[string](t, tb, `navigator.clipboard.readText()`); got != link {
			t.Errorf("clipboard holds %q, want %q", got, link)
		}

		// Without a clipboard (plain http on a public host), or when the
		// browser refuses, the page selects the link and says so.
		for _, c := range []struct{ desc, breakIt, hint string }{
			{"clipboard refused",
				`navigator.clipboard.writeText = () => Promise.reject(new DOMException("denied", "NotAllowedError"))`,
				"Could not copy: the link is selected, press Ctrl+C."},
			{"no clipboard API",
				`Object.defineProperty(Navigator.prototype, "clipboard", { get: () => undefined, configurable: true })`,
				"Copying needs HTTPS here: the link is selected, press Ctrl+C."},
		} {
			eval[chromedp.Void](t, tb, c.breakIt+`; window.getSelection().removeAllRanges()`)
			tb.do(t, "click Copy", chromedp.Click(chromedp.ID("copy-button")))
			tb.waitFor(t, "the copy hint", `!document.getElementById("error").hidden`)
			if got := eval[string](t, tb, `document.getElementById("error").textContent`); got != c.hint {
				t.Errorf("%s: hint %q, want %q", c.desc, got, c.hint)
			}
			if got := eval[string](t, tb, `window.getSelection().toString()`); got != link {
				t.Errorf("%s: selection %q, want the link %q", c.desc, got, link)
			}
		}
	})

	t.Run("empty upload shows the server's message", func(t *testing.T) {
		tb.navigate(t, s.URL+"/")
		for _, text := range []string{"", " \n\t \n"} {
			if got, want := uploadError(t, tb, text), "paste is empty"; got != want {
				t.Errorf("upload %q: error line %q, want %q", text, got, want)
			}
		}
	})

	t.Run("delete link deletes the paste", func(t *testing.T) {
		tb.navigate(t, s.URL+"/")
		keep := upload(t, tb, "not mine to delete")
		keepID := pasteURL.FindStringSubmatch(keep)[2]
		link := upload(t, tb, "delete me")

		tb.follow(t, "delete-link")
		if loc := run(t, tb, "location", chromedp.Location()); !strings.HasPrefix(loc, s.URL+"/delete/") || !strings.Contains(loc, "#token=") {
			t.Fatalf("delete link leads to %q", loc)
		}
		tb.do(t, "confirm", chromedp.Click(chromedp.ID("confirm-delete")), chromedp.WaitVisible(chromedp.ID("delete-status")))
		id := pasteURL.FindStringSubmatch(link)[2]
		if got, want := eval[string](t, tb, `document.getElementById("delete-status").textContent`), "Paste "+id+" is deleted."; got != want {
			t.Errorf("status %q, want %q", got, want)
		}
		if res, _ := s.get(t, link); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s after delete: %d, want 404", link, res.StatusCode)
		}

		// Someone else's token does not delete the other paste.
		tb.navigate(t, s.URL+"/delete/"+keepID+"#token=not-the-token")
		tb.do(t, "confirm", chromedp.Click(chromedp.ID("confirm-delete")), chromedp.WaitVisible(chromedp.ID("error")))
		if got, want := eval[string](t, tb, `document.getElementById("error").textContent`), "delete token does not match"; got != want {
			t.Errorf("wrong token: error %q, want %q", got, want)
		}
		if res, _ := s.get(t, keep); res.StatusCode != http.StatusOK {
			t.Errorf("GET %s after a delete with a wrong token: %d, want 200", keep, res.StatusCode)
		}
	})
}

func TestUploadTooLarge(t *testing.T) {
	s := startServer(t, "-maxsize", "1")
	tb := newTab(t, 1200, 800)
	tb.navigate(t, s.URL+"/")
	if got := run(t, tb, "label", chromedp.Text(chromedp.CSS(`label[for="upload-textarea"]`))); !strings.Contains(got, "1 MiB") {
		t.Errorf("the page says %q, want it to name the 1 MiB limit", got)
	}
	const mib = 1 << 20
	if got, want := uploadError(t, tb, strings.Repeat("x", mib+1)), "paste is larger than the limit of 1 MiB"; got != want {
		t.Errorf("upload of 1 MiB + 1 byte: error line %q, want %q", got, want)
	}
	eval[chromedp.Void](t, tb, `document.getElementById("error").hidden = true;
		document.getElementById("upload-textarea").value = "y".repeat(`+strconv.Itoa(mib)+`)`)
	tb.do(t, "upload exactly 1 MiB", chromedp.Click(chromedp.ID("upload")), chromedp.WaitVisible(chromedp.ID("paste-link")))
	link := eval[string](t, tb, `document.getElementById("paste-link").href`)
	if res, body := s.get(t, link); res.StatusCode != http.StatusOK || len(body) != mib {
		t.Errorf("GET %s: %d with %d bytes, want 200 with %d", link, res.StatusCode, len(body), mib)
	}
	if !eval[bool](t, tb, `document.getElementById("error").hidden`) {
		t.Errorf("the error line still shows after a successful upload")
	}
}
