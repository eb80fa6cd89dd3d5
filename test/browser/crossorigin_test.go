package browser_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"
)

var pasteID = regexp.MustCompile(`^[A-Za-z0-9]{8}$`)

// TestLogpasteJSFromAnotherOrigin is how products embed LogPaste: a page on
// their own site loads /js/logpaste.js from the paste server and uploads.
func TestLogpasteJSFromAnotherOrigin(t *testing.T) {
	s := startServer(t)
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html><head><meta charset="utf-8"><title>a product</title>
<script src="%s/js/logpaste.js"></script></head><body><p>a product page</p></body></html>`, s.URL)
	}))
	t.Cleanup(site.Close)
	if site.URL == s.URL {
		t.Fatal("the page and the paste server share an origin")
	}

	tb := newTab(t, 1200, 800)
	tb.navigate(t, site.URL+"/")
	if origin := eval[string](t, tb, `location.origin`); origin != site.URL {
		t.Fatalf("page origin %q, want %q", origin, site.URL)
	}
	tb.waitFor(t, "window.logpaste", `window.logpaste && typeof window.logpaste.uploadText === "function"`)

	type result struct {
		ID      string `json:"id"`
		Status  int    `json:"status"`
		Text    string `json:"text"`
		Error   string `json:"error"`
		IsError bool   `json:"isError"`
	}
	// uploadAndRead uploads with logpaste.js and fetches the paste back from
	// the page, cross-origin; baseArg is the JavaScript for the second argument.
	uploadAndRead := func(t *testing.T, text, baseArg string) result {
		t.Helper()
		return eval[result](t, tb, `(async () => {
			const id = await window.logpaste.uploadText(`+jsString(text)+`, `+baseArg+`);
			const res = await fetch(`+jsString(s.URL)+` + "/" + id);
			return { id: id, status: res.status, text: await res.text() };
		})()`)
	}

	for _, c := range []struct{ desc, text, baseArg string }{
		{"with the server's URL", "error: cross-origin ✓\nline 2\n", jsString(s.URL)},
		{"with a trailing slash", "second paste", jsString(s.URL + "/")},
		{"without baseUrl (the script's own server)", "third paste", "undefined"},
	} {
		t.Run(c.desc, func(t *testing.T) {
			got := uploadAndRead(t, c.text, c.baseArg)
			if !pasteID.MatchString(got.ID) {
				t.Fatalf("uploadText resolved to %q, want an 8-character id", got.ID)
			}
			if got.Status != http.StatusOK || got.Text != c.text {
				t.Errorf("cross-origin GET of %s: %d %q, want 200 %q", got.ID, got.Status, got.Text, c.text)
			}
			if res, body := s.get(t, "/"+got.ID); res.StatusCode != http.StatusOK || body != c.text {
				t.Errorf("GET /%s from Go: %d %q, want 200 %q", got.ID, res.StatusCode, body, c.text)
			}
		})
	}

	t.Run("a rejected upload rejects with the server's message", func(t *testing.T) {
		got := eval[result](t, tb, `window.logpaste.uploadText("", `+jsString(s.URL)+`).then(
			(id) => ({ id: id }),
			(err) => ({ error: err.message, isError: err instanceof Error }))`)
		if got.ID != "" {
			t.Fatalf("empty upload resolved to id %q, want a rejection", got.ID)
		}
		if !got.IsError || got.Error != "paste is empty" {
			t.Errorf("rejection: Error=%v message %q, want an Error with %q", got.IsError, got.Error, "paste is empty")
		}
	})
}
