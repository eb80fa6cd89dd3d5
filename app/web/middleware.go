package web

import (
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// frame is the one middleware every request passes through: the request
// log, panics turned into errors, the headers every answer carries, CORS.
// One layer, not four: Echo v4 builds the middleware chain anew for each
// request, a closure per layer.
func (s *Server) frame(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		if err := s.guarded(c, next); err != nil {
			c.Error(err)
		}
		s.logRequest(c, start)
		return nil
	}
}

// logRequest writes one structured line per request: never a paste's body.
func (s *Server) logRequest(c echo.Context, start time.Time) {
	req, res := c.Request(), c.Response()
	elapsed := time.Since(start)
	route := c.Path()
	if route == "" {
		route = "unmatched"
	}
	s.obs.Request(req.Method, route, res.Status, elapsed)
	s.requests.write(start.Add(elapsed), req.Method, req.URL.Path, res.Status, res.Size, elapsed, c.RealIP())
}

// guarded runs next after setting the common headers and answering CORS
// preflights; a panic in it becomes an error (http.ErrAbortHandler goes on
// up: it means "cut the connection").
func (s *Server) guarded(c echo.Context, next echo.HandlerFunc) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if r == http.ErrAbortHandler {
				panic(r)
			}
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	h := c.Response().Header()
	// Security headers apply to every answer; handlers add what is specific.
	h.Set(echo.HeaderXContentTypeOptions, "nosniff")
	h.Set(echo.HeaderContentSecurityPolicy, "default-src 'none'; sandbox")
	if s.cors(c, h) {
		return c.NoContent(http.StatusNoContent)
	}
	return next(c)
}

// cors lets any site upload and read pastes from the browser, as LogPaste
// does; nothing here relies on cookies, so the wildcard origin is safe.
// Only browsers send Origin, so other clients are spared the headers; every
// answer says it varies by Origin, so a shared cache never hands a browser
// an answer stored for curl. It reports whether the request was a preflight,
// answered by the headers alone.
func (s *Server) cors(c echo.Context, h http.Header) (preflight bool) {
	req := c.Request()
	h.Set(echo.HeaderVary, echo.HeaderOrigin)
	if req.Method != http.MethodOptions && req.Header.Get("Origin") == "" {
		return false
	}
	h.Set(echo.HeaderAccessControlAllowOrigin, "*")
	h.Set(echo.HeaderAccessControlExposeHeaders, "X-Delete-Token, X-Paste-Expires, Retry-After, Etag")
	if req.Method != http.MethodOptions {
		return false
	}
	h.Set("Access-Control-Allow-Methods", "GET, HEAD, PUT, POST, DELETE, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Content-Type, X-Delete-Token, X-Expires")
	h.Set("Access-Control-Max-Age", "86400")
	return true
}
