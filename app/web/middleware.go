package web

import (
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// logRequests is the outermost middleware: errors are answered inside it,
// so the log line has the status the client got.
func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		if err := next(c); err != nil {
			c.Error(err)
		}
		s.logRequest(c, start)
		return nil
	}
}

// logRequest writes one structured line per request, never a paste's body.
// By hand rather than through log/slog or Echo's RequestLogger: the line's
// cost is measured in docs/performance.md (GET).
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

// recoverPanics turns a panic into an error answered 500 and logged by
// handleError; http.ErrAbortHandler goes on up (it means "cut the
// connection").
var recoverPanics = middleware.RecoverWithConfig(middleware.RecoverConfig{
	DisablePrintStack: true,
	LogErrorFunc: func(_ echo.Context, err error, _ []byte) error {
		return fmt.Errorf("panic: %w", err)
	},
})

// secureHeaders go on every answer; pages set their own CSP and framing.
var secureHeaders = middleware.SecureWithConfig(middleware.SecureConfig{
	ContentTypeNosniff:    "nosniff",
	ContentSecurityPolicy: "default-src 'none'; sandbox",
})

// cors lets any site upload and read pastes from the browser, as LogPaste
// does; nothing here relies on cookies, so the wildcard origin is safe.
// Every answer says it varies by Origin, so a shared cache never hands a
// browser an answer stored for curl.
var cors = middleware.CORSWithConfig(middleware.CORSConfig{
	AllowOrigins:  []string{"*"},
	AllowMethods:  []string{http.MethodGet, http.MethodHead, http.MethodPut, http.MethodPost, http.MethodDelete, http.MethodOptions},
	AllowHeaders:  []string{"Content-Type", "X-Delete-Token", "X-Expires"},
	ExposeHeaders: []string{"X-Delete-Token", "X-Paste-Expires", "Retry-After", "Etag"},
	MaxAge:        86400,
})
