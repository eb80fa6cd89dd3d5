package web_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
)

// TestPostToAnyPathIsAnUpload: LogPaste took form uploads at any path (its
// page posted to /upload), raw ones too.
func TestPostToAnyPathIsAnUpload(t *testing.T) {
	ts := mustServer(t)
	for _, path := range []string{"/upload", "/some/deeper/path", "/"} {
		t.Run(path, func(t *testing.T) {
			body, ctype := multipartBody(t, part{field: "_", content: "posted to " + path})
			rec := ts.mustAnswer(t, req(http.MethodPost, path, body, "Content-Type", ctype), http.StatusOK)
			if got, want := string(ts.mustGet(t, idFromURL(t, rec.Body.String()))), "posted to "+path; got != want {
				t.Errorf("stored: got %q, want %q", got, want)
			}
			raw := ts.do(req(http.MethodPost, path, strings.NewReader("raw to "+path), "Content-Type", "text/plain"))
			if raw.Code != http.StatusOK {
				t.Fatalf("raw POST: got status %d (%q), want 200", raw.Code, raw.Body.String())
			}
		})
	}
}

// TestOversizePostToAnyPathIs413: the size limit holds on every upload path.
func TestOversizePostToAnyPathIs413(t *testing.T) {
	ts := mustServer(t)
	body, ctype := multipartBody(t, part{field: "_", content: strings.Repeat("x", 3<<20)})
	ts.mustRefuse(t, ts.do(req(http.MethodPost, "/upload", body, "Content-Type", ctype)), http.StatusRequestEntityTooLarge, "")
}

// TestGetWithTrailingSlash: /ID/ serves the paste, as LogPaste's prefix
// route did; anything longer stays 404.
func TestGetWithTrailingSlash(t *testing.T) {
	ts := mustServer(t)
	want := []byte("slash \x00\xff")
	a := ts.mustPut(t, "/", want)
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		rec := ts.mustAnswer(t, req(method, "/"+a.ID+"/", nil), http.StatusOK)
		if method == http.MethodGet && !bytes.Equal(rec.Body.Bytes(), want) {
			t.Errorf("GET /%s/: got %q, want %q", a.ID, rec.Body.Bytes(), want)
		}
	}
	for _, path := range []string{"/" + a.ID + "/x", "/" + a.ID + "//", "/nosuchid/"} {
		if rec := ts.do(req(http.MethodGet, path, nil)); rec.Code != http.StatusNotFound {
			t.Errorf("GET %s: got status %d, want 404", path, rec.Code)
		}
	}
}
