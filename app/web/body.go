package web

import (
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

// Memory follows the bytes that arrive, not the bytes a body announces: a
// body starts in a buffer of at most firstBuffer bytes, which grows as it
// fills, so a client trickling its body holds about what it has sent.
const (
	firstBuffer = 16 << 10
	// readStep is the most one read asks for: each read moves the deadline.
	readStep = 64 << 10
	// jumpFactor: a body of known length grows to that length in one step
	// once it is at most this many times the buffer, so the last copy of a
	// big body costs a sixteenth of it rather than half.
	jumpFactor = 16
)

// readLimited reads all of r into one buffer that grows as bytes arrive,
// each step counted in share before it is allocated; a body over limit is
// errTooLarge. sizeHint (a Content-Length, or -1) caps the buffer at
// the announced length.
func readLimited(r io.Reader, limit, sizeHint int64, share *budgetShare) ([]byte, error) {
	if sizeHint > limit {
		return nil, errTooLarge
	}
	// One byte more than may arrive: reading it tells a body too long.
	bound := limit + 1
	if sizeHint >= 0 {
		bound = sizeHint + 1
	}
	size := min(bound, firstBuffer)
	if err := share.take(size); err != nil {
		return nil, err
	}
	buf := make([]byte, 0, size)
	for int64(len(buf)) < bound {
		if len(buf) == cap(buf) {
			next := nextSize(int64(cap(buf)), bound, sizeHint >= 0)
			after := share.held - int64(cap(buf)) + next
			// Both buffers are held while the old is copied.
			if err := share.take(next); err != nil {
				return nil, err
			}
			grown := make([]byte, len(buf), next)
			copy(grown, buf)
			share.keep(after)
			buf = grown
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, readError(err)
		}
	}
	switch n := int64(len(buf)); {
	case sizeHint >= 0 && n != sizeHint:
		return nil, errBadUpload
	case n > limit:
		return nil, errTooLarge
	}
	return buf, nil
}

// nextSize is the capacity after c: twice c, or at once the whole bound of
// a body of known length once that is at most jumpFactor times c.
func nextSize(c, bound int64, known bool) int64 {
	if known && jumpFactor*c >= bound {
		return bound
	}
	return min(2*c, bound)
}

func readError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return errTooLarge
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return errors.Join(errTooSlow, err)
	}
	return errors.Join(errBadUpload, err)
}

// errTooSlow is an upload cut off for stalling or arriving below the
// minimum rate.
var errTooSlow = errors.New("upload too slow")

// bodyPace is how a body must keep arriving: a byte at least every idle,
// and past grace, minRate bytes a second on average (0 turns either off).
type bodyPace struct {
	idle, grace time.Duration
	minRate     int64
}

// pacedReader moves the connection's read deadline along with the bytes
// received. The deadline it sets replaces the server's read timeout, so a
// slow but steady body may take as long as its pace allows.
type pacedReader struct {
	r     io.Reader
	rc    http.ResponseController
	req   *http.Request
	pace  bodyPace
	start time.Time
	n     int64
	eof   bool
}

func newPacedReader(req *http.Request, r io.Reader, w http.ResponseWriter, pace bodyPace) *pacedReader {
	return &pacedReader{r: r, rc: *http.NewResponseController(w), req: req, pace: pace, start: time.Now()}
}

func (m *pacedReader) Read(p []byte) (int, error) {
	if len(p) > readStep {
		p = p[:readStep]
	}
	var deadline time.Time
	if m.pace.idle > 0 {
		deadline = time.Now().Add(m.pace.idle)
	}
	if m.pace.minRate > 0 {
		earned := time.Duration(float64(m.n+int64(len(p))) / float64(m.pace.minRate) * float64(time.Second))
		if d := m.start.Add(m.pace.grace + earned); deadline.IsZero() || d.Before(deadline) {
			deadline = d
		}
	}
	if !deadline.IsZero() {
		// Servers under test (no connection) cannot set deadlines: nothing to enforce.
		_ = m.rc.SetReadDeadline(deadline)
	}
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
// deadline, so whatever net/http still reads of it is bounded too. A body
// that took a while gives the answer the server's whole write timeout
// again, which net/http counted from the request's start.
func (m *pacedReader) done() {
	if !m.eof {
		return
	}
	_ = m.rc.SetReadDeadline(time.Time{})
	if elapsed := time.Since(m.start); elapsed > time.Second {
		if srv, ok := m.req.Context().Value(http.ServerContextKey).(*http.Server); ok && srv.WriteTimeout > 0 {
			_ = m.rc.SetWriteDeadline(time.Now().Add(srv.WriteTimeout))
		}
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
func readMultipart(body io.Reader, boundary string, limit int64, share *budgetShare) ([]byte, error) {
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
		data, err := readLimited(part, limit, -1, share)
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
