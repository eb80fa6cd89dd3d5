package web

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"

	"github.com/litepaste/litepaste/app/paste"
)

// readLimited reads all of r, never holding more than limit+1 bytes: a body
// over limit is paste.ErrTooLarge. sizeHint (a Content-Length, or -1) sizes the
// buffer once, so a known-size body is read without growing copies.
func readLimited(r io.Reader, limit, sizeHint int64) ([]byte, error) {
	if sizeHint > limit {
		return nil, paste.ErrTooLarge
	}
	if sizeHint >= 0 {
		buf := make([]byte, sizeHint)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, readError(err)
		}
		// The client may send more than it announced; never accept it.
		var one [1]byte
		if n, _ := r.Read(one[:]); n > 0 {
			return nil, paste.ErrBadUpload
		}
		return buf, nil
	}
	var b bytes.Buffer
	n, err := b.ReadFrom(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, readError(err)
	}
	if n > limit {
		return nil, paste.ErrTooLarge
	}
	return b.Bytes(), nil
}

func readError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return paste.ErrTooLarge
	}
	return errors.Join(paste.ErrBadUpload, err)
}

// isMultipart reports whether a POST carries form parts (curl -F).
func isMultipart(r *http.Request) (string, bool) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || !strings.EqualFold(mt, "multipart/form-data") || params["boundary"] == "" {
		return "", false
	}
	return params["boundary"], true
}

// readMultipart picks the paste out of a form with any field names, as
// LogPaste does: the first plain field wins; failing that, the first file.
// At most two candidates are ever held, each capped at limit.
func readMultipart(body io.Reader, boundary string, limit int64) ([]byte, error) {
	mr := multipart.NewReader(body, boundary)
	var file []byte
	haveFile := false
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, readError(err)
		}
		isFile := part.FileName() != ""
		if isFile && haveFile {
			if _, err := io.Copy(io.Discard, part); err != nil {
				return nil, readError(err)
			}
			continue
		}
		data, err := readLimited(part, limit, -1)
		if err != nil {
			return nil, err
		}
		if !isFile {
			return data, nil
		}
		file, haveFile = data, true
	}
	if !haveFile {
		return nil, paste.ErrEmpty
	}
	return file, nil
}
