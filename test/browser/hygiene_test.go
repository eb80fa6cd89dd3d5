package browser_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestPageIsClean walks the page's whole flow (load, upload, copy, delete)
// and checks that nothing lands in the console, the CSP blocks nothing, and
// every request goes to the server itself.
func TestPageIsClean(t *testing.T) {
	s, tb := openPage(t)
	upload(t, tb, "a clean run\n")
	tb.do(t, "copy", chromedp.Click(chromedp.ID("copy-button")))
	tb.waitFor(t, "the copy outcome", `document.getElementById("copy-button").textContent === "Copied" ||
		!document.getElementById("error").hidden`)
	tb.follow(t, "delete-link")
	tb.do(t, "delete", chromedp.Click(chromedp.ID("confirm-delete")), chromedp.WaitVisible(chromedp.ID("delete-status")))
	// Load the page once more, so that messages of the first load's end
	// (and of the delete page) have time to arrive before the checks.
	tb.navigate(t, s.URL+"/")

	if lines := tb.consoleLines(); len(lines) > 0 {
		t.Errorf("the page wrote to the console:\n%s", joinLines(lines))
	}
	reqs := tb.requestLines()
	for _, want := range []string{
		"GET " + s.URL + "/",
		"GET " + s.URL + "/static/css/style.css",
		"GET " + s.URL + "/static/js/app.js",
		"PUT " + s.URL + "/?expires=",
		"GET " + s.URL + "/static/js/delete.js",
		"DELETE " + s.URL + "/",
	} {
		if !hasPrefix(reqs, want) {
			t.Errorf("no request %q recorded; the recorder may be broken. Requests:\n%s", want, strings.Join(reqs, "\n"))
		}
	}
	for _, r := range reqs {
		_, u, _ := strings.Cut(r, " ")
		if !strings.HasPrefix(u, s.URL+"/") {
			t.Errorf("request outside the server's origin: %s", r)
		}
	}

	// The checks above only mean something if a CSP violation would show:
	// an inline script must be blocked, and reported.
	before := len(tb.consoleLines())
	ran := eval[bool](t, tb, `(() => {
		const s = document.createElement("script");
		s.textContent = "window.inlineRan = true";
		document.body.appendChild(s);
		return window.inlineRan === true;
	})()`)
	if ran {
		t.Error("an inline script ran: the page's CSP allows inline script")
	}
	cspReport := func(l consoleLine) bool {
		return l.level == "error" && strings.Contains(l.text, "Content Security Policy")
	}
	deadline := time.Now().Add(30 * time.Second)
	for !slices.ContainsFunc(tb.consoleLines()[before:], cspReport) {
		if time.Now().After(deadline) {
			t.Fatalf("a blocked inline script left no console error within 30s; got:\n%s", joinLines(tb.consoleLines()[before:]))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func hasPrefix(list []string, prefix string) bool {
	for _, s := range list {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}
