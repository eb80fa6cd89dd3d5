package web

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/litepaste/litepaste/app/paste"
)

// expiresLayout is how a paste's expiry goes out, in the X-Paste-Expires
// header and the PUT answer's "expires" alike.
const expiresLayout = time.RFC3339

// putPaste answers LogPaste's {"id": ...} plus what litepaste adds: the
// paste's URL, its delete token and, if it expires, when. The JSON is written
// by hand (every value is a string): this is the hot path of uploads.
func (s *Server) putPaste(c echo.Context) error {
	p, token, err := s.upload(c, false)
	if err != nil {
		return err
	}
	b := make([]byte, 0, 160)
	b = append(b, `{"id":`...)
	b = appendJSONString(b, p.ID.String())
	b = append(b, `,"url":`...)
	b = appendJSONString(b, s.pasteURL(c, p.ID))
	b = append(b, `,"deleteToken":`...)
	b = appendJSONString(b, token)
	if !p.Expires.IsZero() {
		b = append(b, `,"expires":"`...)
		b = p.Expires.AppendFormat(b, expiresLayout)
		b = append(b, '"')
	}
	b = append(b, "}\n"...)
	return c.JSONBlob(http.StatusOK, b)
}

// postPaste answers with the paste's URL as plain text (LogPaste's format);
// the delete token travels in a header so that body stays unchanged.
func (s *Server) postPaste(c echo.Context) error {
	p, _, err := s.upload(c, true)
	if err != nil {
		return err
	}
	return text(c, http.StatusOK, s.pasteURL(c, p.ID)+"\n")
}

// upload runs every step of accepting a paste; nothing is stored unless all
// of them pass.
func (s *Server) upload(c echo.Context, form bool) (paste.Paste, string, error) {
	req := c.Request()
	client := clientKey(c.RealIP())
	if err := s.admit(client); err != nil {
		return paste.Paste{}, "", err
	}
	lifetime, err := s.cfg.Expiry.Lifetime(requestedExpiry(c))
	if err != nil {
		s.obs.Upload(OutcomeInvalid, 0)
		return paste.Paste{}, "", err
	}
	share := budgetShare{budget: s.uploads, ctx: req.Context(), wait: s.busyWait}
	// The bytes are held until the paste is stored (or dropped), so they
	// count until then.
	defer share.releaseAll()
	body, err := s.receive(c, client, form, false, &share)
	if err != nil {
		return paste.Paste{}, "", err
	}
	if err := paste.CheckBody(body); err != nil {
		s.obs.Upload(OutcomeEmpty, 0)
		return paste.Paste{}, "", err
	}
	token, hash, err := paste.NewDeleteToken()
	if err != nil {
		return paste.Paste{}, "", err
	}
	p, err := s.store.Insert(req.Context(), paste.New(body, s.now(), lifetime, hash))
	if err != nil {
		s.obs.Upload(OutcomeFailed, 0)
		return paste.Paste{}, "", err
	}
	s.obs.Upload(OutcomeStored, len(body))
	h := c.Response().Header()
	h.Set("X-Delete-Token", token)
	if !p.Expires.IsZero() {
		h.Set("X-Paste-Expires", p.Expires.Format(expiresLayout))
	}
	h.Set(echo.HeaderCacheControl, "no-store")
	return p, token, nil
}

// admit applies the per-minute limit of uploads of client.
func (s *Server) admit(client string) error {
	if s.limiter != nil {
		if ok, wait := s.limiter.allow(client); !ok {
			s.obs.Upload(OutcomeRateLimited, 0)
			return retryError{errRateLimited, ceilSeconds(wait)}
		}
	}
	return nil
}

// receive reads an upload's body within client's share of upload slots and
// the memory budget (share, which the caller releases once done with the
// body). raw keeps a form as it came, for a replica to pass on.
func (s *Server) receive(c echo.Context, client string, form, raw bool, share *budgetShare) ([]byte, error) {
	req := c.Request()
	if s.slots != nil {
		if !s.slots.enter(req.Context(), client, s.slotWait) {
			s.obs.Upload(OutcomeRateLimited, 0)
			return nil, retryError{errRateLimited, ceilSeconds(s.slotWait)}
		}
		defer s.slots.leave(client)
	}
	body, err := s.readBody(c.Response(), req, form, raw, share)
	if err != nil {
		s.obs.Upload(outcomeOf(err), 0)
	}
	return body, err
}

// readBody reads the upload into memory that share counts as it grows;
// past the budget, uploads wait, then get 503. A form is read for its
// paste, or with raw, whole.
func (s *Server) readBody(w http.ResponseWriter, req *http.Request, form, raw bool, share *budgetShare) ([]byte, error) {
	maxSize := s.cfg.MaxSize
	boundary, multi := "", false
	if form {
		boundary, multi = isMultipart(req)
	}
	// Framing and a few parts may add to a form; the paste may not.
	limit := maxSize
	if multi {
		limit = 2*maxSize + 64<<10
	}
	if req.ContentLength > limit {
		return nil, errTooLarge
	}
	// A body of announced length cannot run past it (net/http stops there)
	// and that length is within the limit; any other is cut off just past it.
	src := req.Body
	if req.ContentLength < 0 {
		src = http.MaxBytesReader(nil, src, limit+1)
	}
	paced := newPacedReader(req, src, w, s.pace)
	defer paced.done()
	if multi && !raw {
		return readMultipart(paced, boundary, maxSize, share)
	}
	return readLimited(paced, limit, req.ContentLength, share)
}

func requestedExpiry(c echo.Context) string {
	// Most uploads have no query: spare them Echo's parse of an empty one.
	if c.Request().URL.RawQuery != "" {
		if v := c.QueryParam("expires"); v != "" {
			return v
		}
	}
	return c.Request().Header.Get("X-Expires")
}

func outcomeOf(err error) string {
	switch {
	case errors.Is(err, errTooLarge):
		return OutcomeTooLarge
	case errors.Is(err, paste.ErrEmpty):
		return OutcomeEmpty
	case errors.Is(err, errBusy):
		return OutcomeBusy
	default:
		return OutcomeInvalid
	}
}

func (s *Server) pasteURL(c echo.Context, id paste.ID) string {
	return s.proxies.baseURL(c.Request()) + "/" + id.String()
}

// Pastes never change, so caches may keep them, but only briefly: a paste
// can still be deleted or expire.
const pasteMaxAge = time.Hour

// cacheControl lets caches keep a paste for maxAge.
func cacheControl(maxAge time.Duration) string {
	return "public, max-age=" + strconv.Itoa(int(maxAge/time.Second)) + ", immutable"
}

// pasteCacheControl is that of a paste that does not expire sooner, the
// usual case, built once.
var pasteCacheControl = cacheControl(pasteMaxAge)

// getPaste serves a paste through http.ServeContent: Range, If-Range, HEAD
// and the preconditions as net/http defines them. If-None-Match is answered
// first, since it must also match the gzip-encoded tag.
func (s *Server) getPaste(c echo.Context) error {
	id, err := paste.ParseID(c.Param("id"))
	if err != nil {
		s.obs.Lookup(false)
		return err
	}
	now := s.now()
	req := c.Request()
	p, body, err := s.reads.Lookup(req.Context(), id, now)
	if err != nil {
		if errors.Is(err, paste.ErrNotFound) {
			if s.fwd != nil && s.fwd.unseen(c, id) {
				return s.fwd.read(c)
			}
			s.obs.Lookup(false)
		}
		return err
	}
	s.obs.Lookup(true)
	h := c.Response().Header()
	h.Set("ETag", p.ETag)
	cc := pasteCacheControl
	if !p.Expires.IsZero() {
		cc = cacheControl(min(pasteMaxAge, p.Expires.Sub(now)))
		h.Set("X-Paste-Expires", p.Expires.Format(expiresLayout))
	}
	h.Set(echo.HeaderCacheControl, cc)
	if tag, ok := etagMatch(req.Header.Get("If-None-Match"), p.ETag); ok {
		h.Set("ETag", tag)
		return c.NoContent(http.StatusNotModified)
	}
	h.Set(echo.HeaderContentType, textPlain)
	r := &failedRead{ReadSeeker: body}
	http.ServeContent(c.Response(), req, "", time.Time{}, r)
	if r.err != nil {
		// The status is sent: a failure now can only cut the connection, so
		// the client sees a body cut short, never one that looks whole. A
		// client that left is no failure of ours.
		if req.Context().Err() == nil {
			s.log.Warn("paste cut short", "id", id.String(), "err", r.err)
		}
		panic(http.ErrAbortHandler)
	}
	return nil
}

// failedRead keeps the first error reading a paste, which http.ServeContent
// would drop.
type failedRead struct {
	io.ReadSeeker
	err error
}

func (r *failedRead) Read(b []byte) (int, error) {
	n, err := r.ReadSeeker.Read(b)
	if err != nil && err != io.EOF && r.err == nil {
		r.err = err
	}
	return n, err
}

// etagMatch implements If-None-Match for a paste's strong tag, plain or
// gzip-encoded; it returns the tag matched, the one a 304 carries.
func etagMatch(header, etag string) (string, bool) {
	if header == "" {
		return "", false
	}
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		switch {
		case t == "*" || t == etag:
			return etag, true
		case isGzipETag(t, etag):
			return t, true
		}
	}
	return "", false
}

// isGzipETag reports whether t is etag as gzhttp suffixes it.
func isGzipETag(t, etag string) bool {
	base, ok := strings.CutSuffix(t, gzipETagSuffix+`"`)
	return ok && len(etag) > 0 && base == etag[:len(etag)-1]
}

func (s *Server) deletePaste(c echo.Context) error {
	id, err := paste.ParseID(c.Param("id"))
	if err != nil {
		return err
	}
	token := c.Request().Header.Get("X-Delete-Token")
	if token == "" {
		return paste.ErrForbidden
	}
	if err := s.store.DeleteWithToken(c.Request().Context(), id, token, s.now()); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) healthz(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	return text(c, http.StatusOK, "ok\n")
}

// readyz fails with a one-line reason when the database cannot be read or
// written; the detail goes to the log only.
func (s *Server) readyz(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	ctx, cancel := context.WithTimeout(c.Request().Context(), 3*time.Second)
	defer cancel()
	if err := s.reads.Ready(ctx); err != nil {
		s.log.Warn("not ready", "err", err)
		code, reason := s.statusOf(err)
		var why interface{ Reason() string }
		if errors.As(err, &why) {
			reason = why.Reason()
		} else if code == http.StatusInternalServerError {
			reason = "database unavailable"
		}
		return text(c, http.StatusServiceUnavailable, "not ready: "+reason+"\n")
	}
	return text(c, http.StatusOK, "ready\n")
}

func ceilSeconds(d time.Duration) int {
	return max(1, int((d+time.Second-1)/time.Second))
}
