package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
	"github.com/litepaste/litepaste/app/paste"
)

// The transport's errors: about the request, not about a paste.
var (
	errTooLarge    = errors.New("paste is too large")
	errBadUpload   = errors.New("malformed upload")
	errRateLimited = errors.New("too many uploads")
	errBusy        = errors.New("server busy")
	// errWriterDown is a replica's write that the writer did not answer
	// within the retry time.
	errWriterDown = errors.New("writer unreachable")
	// errForwardLoop is a request a replica received from a replica: the
	// writer's URL leads to replicas, not to the writer.
	errForwardLoop = errors.New("request passed between replicas: PRIMARY_URL must name the writer")
)

// errorStatus is the status code and the fixed one-line message clients see
// for an error that is, or wraps, err.
type errorStatus struct {
	err  error
	code int
	msg  string
}

// errorStatuses is the one table from domain and transport errors to status
// codes and messages, first match wins. It is built once per server: two
// messages name a configured limit.
func (s *Server) errorStatuses() []errorStatus {
	return []errorStatus{
		{paste.ErrNotFound, http.StatusNotFound, "paste not found"},
		{paste.ErrInvalidID, http.StatusNotFound, "paste not found"},
		{paste.ErrEmpty, http.StatusBadRequest, "paste is empty"},
		{errTooSlow, http.StatusRequestTimeout, "upload too slow: the body must keep arriving"},
		{errBadUpload, http.StatusBadRequest, "malformed upload"},
		{paste.ErrInvalidExpiry, http.StatusBadRequest, "invalid expiry: use a duration such as 1h, 1d, 1w or 30d" + s.maxExpiryHint()},
		{errTooLarge, http.StatusRequestEntityTooLarge, s.tooLargeMessage()},
		{paste.ErrForbidden, http.StatusForbidden, "delete token does not match"},
		{errRateLimited, http.StatusTooManyRequests, "too many uploads, try again later"},
		{errBusy, http.StatusServiceUnavailable, "server busy, try again shortly"},
		{paste.ErrStorageFull, http.StatusInsufficientStorage, "storage is full, try again later"},
		{paste.ErrStoreReadOnly, http.StatusServiceUnavailable, "storage is unavailable, try again later"},
		{paste.ErrStoreNotReady, http.StatusServiceUnavailable, "not ready yet, try again shortly"},
		{errForwardLoop, http.StatusLoopDetected, "this server's PRIMARY_URL leads to a read replica, not to the writer"},
		{errWriterDown, http.StatusServiceUnavailable, "the server that stores pastes is unreachable, try again shortly"},
	}
}

// statusOf is an error's status code and message: from the table, else from
// an Echo HTTPError (the router's and middleware's own), else 500. Nothing
// else about an error leaves the server.
func (s *Server) statusOf(err error) (int, string) {
	for _, st := range s.statuses {
		if errors.Is(err, st.err) {
			return st.code, st.msg
		}
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		return he.Code, lowerFirst(http.StatusText(he.Code))
	}
	return http.StatusInternalServerError, "internal error"
}

func (s *Server) maxExpiryHint() string {
	if s.cfg.Expiry.Max == paste.Never {
		return ", or never"
	}
	return ", at most " + formatLifetime(s.cfg.Expiry.Max)
}

// handleError is Echo's single error handler: handlers just return errors.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	code, msg := s.statusOf(err)
	if code >= 500 && code != http.StatusServiceUnavailable {
		s.log.Error("request failed", "method", c.Request().Method, "path", c.Request().URL.Path, "status", code, "err", err)
	}
	var retry retryAfter
	if errors.As(err, &retry) {
		c.Response().Header().Set("Retry-After", strconv.Itoa(retry.Seconds()))
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, textPlain)
	h.Del("ETag")
	h.Del("Cache-Control")
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(code)
		return
	}
	_ = text(c, code, msg+"\n")
}

// retryAfter is an error that tells the client when to come back.
type retryAfter interface {
	error
	Seconds() int
}

type retryError struct {
	err   error
	after int
}

func (e retryError) Error() string { return e.err.Error() }
func (e retryError) Unwrap() error { return e.err }
func (e retryError) Seconds() int  { return e.after }

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	b := []byte(s)
	if 'A' <= b[0] && b[0] <= 'Z' {
		b[0] += 'a' - 'A'
	}
	return string(b)
}

// tooLargeMessage is the 413's wording; the page says the same when it
// refuses a file before sending it.
func (s *Server) tooLargeMessage() string {
	return "paste is larger than the limit of " + formatSize(s.cfg.MaxSize)
}

func formatSize(n int64) string {
	const mib = 1 << 20
	if n%mib == 0 {
		return fmt.Sprintf("%d MiB", n/mib)
	}
	if n%1024 == 0 {
		return fmt.Sprintf("%d KiB", n/1024)
	}
	return fmt.Sprintf("%d bytes", n)
}
