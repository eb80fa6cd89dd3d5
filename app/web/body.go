package web

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"strings"
	"time"

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
		// One byte more, to see that the body ends where it said it would.
		buf := make([]byte, sizeHint+1)
		if _, err := io.ReadFull(r, buf[:sizeHint]); err != nil {
			return nil, readError(err)
		}
		if n, _ := r.Read(buf[sizeHint:]); n > 0 {
			return nil, paste.ErrBadUpload
		}
		return buf[:sizeHint:sizeHint], nil
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
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return errors.Join(errTooSlow, err)
	}
	return errors.Join(paste.ErrBadUpload, err)
}

// errTooSlow is an upload cut off for sending below minUploadRate.
var errTooSlow = errors.New("upload too slow")

// An upload holds its share of the memory budget while its body arrives, so
// it must keep arriving: after a grace period (Server.uploadGrace, shorter
// than the time a waiting upload waits), at least minUploadRate on average.
// A client trickling its body is cut off instead of keeping the budget from
// everyone else.
const (
	minUploadRate = 64 << 10 // bytes per second
	rateStep      = 64 << 10 // bytes read per deadline
)

// minRateReader moves the connection's read deadline along with the bytes
// received, so each step of rateStep bytes must arrive in time.
type minRateReader struct {
	r     io.Reader
	rc    http.ResponseController
	start time.Time
	grace time.Duration
	limit time.Time // the server's own read deadline, never to be extended
	n     int64
	eof   bool
}

// newMinRateReader starts the clock now; arrived is when the request reached
// the handler, from which the server's own read timeout is counted.
func newMinRateReader(req *http.Request, r io.Reader, w http.ResponseWriter, grace time.Duration, arrived time.Time) *minRateReader {
	m := &minRateReader{r: r, rc: *http.NewResponseController(w), start: time.Now(), grace: grace}
	if srv, ok := req.Context().Value(http.ServerContextKey).(*http.Server); ok && srv.ReadTimeout > 0 {
		m.limit = arrived.Add(srv.ReadTimeout)
	}
	return m
}

func (m *minRateReader) Read(p []byte) (int, error) {
	if len(p) > rateStep {
		p = p[:rateStep]
	}
	earned := time.Duration(float64(m.n+int64(len(p))) / minUploadRate * float64(time.Second))
	deadline := m.start.Add(m.grace + earned)
	if !m.limit.IsZero() && deadline.After(m.limit) {
		deadline = m.limit
	}
	// Servers under test (no connection) cannot set deadlines: nothing to enforce.
	_ = m.rc.SetReadDeadline(deadline)
	n, err := m.r.Read(p)
	m.n += int64(n)
	m.eof = err == io.EOF
	return n, err
}

// done lifts the read deadline once the whole body is read: net/http reads
// ahead on the connection while the handler runs, and a read deadline
// passing then (an upload that waited for the store) would cancel the
// context of every later request on that keep-alive connection; the next
// request gets fresh deadlines. A body not read to its end keeps its
// deadline, so whatever net/http still reads of it is bounded too.
func (m *minRateReader) done() {
	if m.eof {
		_ = m.rc.SetReadDeadline(time.Time{})
	}
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
