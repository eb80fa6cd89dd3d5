package web_test

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/litepaste/litepaste/app/web"
)

const fuzzMaxSize = 4096

// FuzzUpload sends arbitrary bodies through the real router as PUT, raw
// POST, or POST with any content type (so arbitrary bytes reach the form
// parser). It never gets a 5xx or a panic, and whatever is stored comes back
// byte for byte.
func FuzzUpload(f *testing.F) {
	ts := mustServer(f, withConfig(func(c *web.Config) { c.MaxSize = fuzzMaxSize }))
	f.Add(uint8(0), "", []byte("hello"))
	f.Add(uint8(1), "multipart/form-data; boundary=X", []byte("--X\r\nContent-Disposition: form-data; name=\"_\"\r\n\r\nhi\r\n--X--\r\n"))
	f.Add(uint8(2), "app.log", []byte("file part"))

	f.Fuzz(func(t *testing.T, kind uint8, contentType string, body []byte) {
		var r *http.Request
		want, known := body, true
		switch kind % 3 {
		case 0:
			r = req(http.MethodPut, "/", bytes.NewReader(body), "Content-Type", contentType)
		case 1:
			r = req(http.MethodPost, "/", bytes.NewReader(body), "Content-Type", contentType)
			if boundary, ok := formBoundary(contentType); ok {
				want, known = firstFormValue(body, boundary)
			}
		case 2:
			// A well-formed form whose file part is the body, named as fuzzed.
			var buf bytes.Buffer
			mw := multipart.NewWriter(&buf)
			w, err := mw.CreateFormFile("_", contentType)
			if err != nil {
				t.Skip()
			}
			w.Write(body)
			mw.Close()
			r = req(http.MethodPost, "/", &buf, "Content-Type", mw.FormDataContentType())
			// The only part is the paste, file or not, unless a control
			// character in its name (which the writer does not escape) made
			// the part's header invalid.
			known = !strings.ContainsFunc(contentType, func(r rune) bool { return r < 0x20 || r == 0x7f })
		}
		rec := ts.do(r)
		if rec.Code >= 500 {
			t.Fatalf("got status %d (%q)", rec.Code, rec.Body.String())
		}
		if known {
			if wantCode := expectedStatus(want); rec.Code != wantCode {
				t.Fatalf("%d-byte paste: got status %d (%q), want %d", len(want), rec.Code, rec.Body.String(), wantCode)
			}
		}
		if rec.Code != http.StatusOK {
			if rec.Code != http.StatusBadRequest && rec.Code != http.StatusRequestEntityTooLarge {
				t.Fatalf("got status %d (%q), want 200, 400 or 413", rec.Code, rec.Body.String())
			}
			return
		}
		var id string
		if r.Method == http.MethodPut {
			var a putAnswer
			mustJSON(t, rec.Body.Bytes(), &a)
			id = a.ID
		} else {
			id = idFromURL(t, rec.Body.String())
		}
		got := ts.mustGet(t, id)
		if known && !bytes.Equal(got, want) {
			t.Fatalf("read back %q, want %q", got, want)
		}
		if len(bytes.TrimSpace(got)) == 0 || len(got) > fuzzMaxSize {
			t.Fatalf("stored %d bytes %q: an empty or oversize paste was accepted", len(got), got)
		}
	})
}

func expectedStatus(body []byte) int {
	switch {
	case len(body) > fuzzMaxSize:
		return http.StatusRequestEntityTooLarge
	case len(bytes.TrimSpace(body)) == 0:
		return http.StatusBadRequest
	}
	return http.StatusOK
}

func formBoundary(contentType string) (string, bool) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || !strings.EqualFold(mt, "multipart/form-data") || params["boundary"] == "" {
		return "", false
	}
	return params["boundary"], true
}

// firstFormValue is what LogPaste takes from a form: the first plain field,
// else the first file. It is known only for forms that parse cleanly up to
// that point.
func firstFormValue(body []byte, boundary string) ([]byte, bool) {
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	var file []byte
	haveFile := false
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, false
		}
		data, err := io.ReadAll(p)
		if err != nil || len(data) > fuzzMaxSize {
			return nil, false
		}
		if p.FileName() == "" {
			return data, true
		}
		if !haveFile {
			file, haveFile = data, true
		}
	}
	return file, haveFile
}
