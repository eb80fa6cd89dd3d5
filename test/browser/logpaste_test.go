package browser_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestLogPastePageIDs is written as one would for a LogPaste page (its own
// end-to-end test: fill #upload-textarea, click #upload, read the link in
// "#result a", fetch it): litepaste's page keeps those ids and meanings.
func TestLogPastePageIDs(t *testing.T) {
	s, tb := openPage(t)

	want := "test upload data"
	tb.do(t, "fill and click",
		chromedp.SendKeys(chromedp.CSS("#upload-textarea"), want),
		chromedp.Click(chromedp.CSS("#upload")),
	)
	// Playwright's locator("#result a") is strict: exactly one element.
	tb.waitFor(t, "the link in #result a", `document.querySelectorAll("#result a").length === 1 &&
		document.querySelector("#result a").textContent.length > 0`)
	href := eval[string](t, tb, `document.querySelector("#result a").getAttribute("href")`)
	base, err := url.Parse(s.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	ref, err := url.Parse(href)
	if err != nil {
		t.Fatalf("href %q: %v", href, err)
	}
	res, body := s.get(t, base.ResolveReference(ref).String())
	if res.StatusCode != http.StatusOK || body != want {
		t.Fatalf("GET %s: %d %q, want 200 %q", href, res.StatusCode, body, want)
	}

	// The error line: LogPaste's #form-upload-error, and #error of the
	// embeddable client in LogPaste's announcement.
	tb.do(t, "upload nothing",
		chromedp.Evaluate[chromedp.Void](`document.querySelector("#upload-textarea").value = ""`),
		chromedp.Click(chromedp.CSS("#upload")),
	)
	tb.waitFor(t, "a message in #form-upload-error", `document.querySelector("#form-upload-error").innerText.trim() !== ""`)
	if got, also := eval[string](t, tb, `document.querySelector("#form-upload-error").innerText.trim()`),
		eval[string](t, tb, `document.querySelector("#error").innerText.trim()`); got != also {
		t.Errorf("#form-upload-error says %q, #error %q: want the same line", got, also)
	}
	for _, sel := range []string{"textarea#upload-textarea", "button#upload", "div#result"} {
		if !eval[bool](t, tb, `document.querySelector(`+jsString(sel)+`) !== null`) {
			t.Errorf("no %s on the page", sel)
		}
	}
}

// logpasteFooter is a footer as LogPaste operators write them (inline styles,
// a logo from an https URL), with a script and an event handler that must not run.
const logpasteFooter = `<p id="styled" style="color: rgb(1, 2, 3)">Only cool users</p>` +
	`<img id="logo" src="https://127.0.0.1:1/logo.png" alt="logo">` +
	`<img id="broken" src="/no-such-image.png" onerror="window.handlerRan = true">` +
	`<script>window.footerScriptRan = true</script>`

// TestLogPasteFooter: inline styles and an https logo are allowed by the
// page's CSP; the footer's script and inline handler are blocked.
func TestLogPasteFooter(t *testing.T) {
	s := startServer(t, "-footer", logpasteFooter)
	tb := newTab(t, 1200, 800)
	tb.navigate(t, s.URL+"/")
	tb.waitFor(t, "the broken image to fail", `document.getElementById("broken").complete`)

	if got := eval[string](t, tb, `getComputedStyle(document.getElementById("styled")).color`); got != "rgb(1, 2, 3)" {
		t.Errorf("footer's inline style: color %q, want rgb(1, 2, 3)", got)
	}
	if eval[bool](t, tb, `window.footerScriptRan === true`) {
		t.Error("the footer's <script> ran")
	}
	if eval[bool](t, tb, `window.handlerRan === true`) {
		t.Error("the footer's onerror= handler ran")
	}
	refused := func(what string) func(consoleLine) bool {
		return func(l consoleLine) bool {
			return strings.Contains(l.text, "Content Security Policy") && strings.Contains(l.text, what)
		}
	}
	// The blocks are reported: proof that CSP messages reach the console.
	for _, what := range []string{"inline script", "inline event handler"} {
		deadline := time.Now().Add(30 * time.Second)
		for !slices.ContainsFunc(tb.consoleLines(), refused(what)) {
			if time.Now().After(deadline) {
				t.Fatalf("no CSP report of the blocked %s within 30s; console:\n%s", what, joinLines(tb.consoleLines()))
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	for _, l := range tb.consoleLines() {
		if refused("directive 'img-src")(l) || refused("directive 'style-src")(l) {
			t.Errorf("the CSP blocked part of the footer: %s", l)
		}
	}
}
