package web

import (
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// logRequests writes one structured line per request: never a paste's body.
func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		if err := next(c); err != nil {
			c.Error(err)
		}
		req, res := c.Request(), c.Response()
		elapsed := time.Since(start)
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		s.obs.Request(req.Method, route, res.Status, elapsed)
		s.requests.write(start.Add(elapsed), req.Method, req.URL.Path, res.Status, res.Size, elapsed, c.RealIP())
		return nil
	}
}

func (s *Server) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				err = fmt.Errorf("panic: %v", r)
			}
		}()
		return next(c)
	}
}

// securityHeaders apply to every answer; handlers add what is specific.
func (s *Server) securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h["X-Content-Type-Options"] = nosniffValue
		h["Content-Security-Policy"] = sandboxCSP
		return next(c)
	}
}

// cors lets any site upload and read pastes from the browser, as LogPaste
// does; nothing here relies on cookies, so the wildcard origin is safe.
// Only browsers send Origin, so other clients are spared the headers; every
// answer says it varies by Origin, so a shared cache never hands a browser
// an answer stored for curl.
func (s *Server) cors(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		h := c.Response().Header()
		h["Vary"] = varyOrigin
		if req.Method != http.MethodOptions && req.Header.Get("Origin") == "" {
			return next(c)
		}
		h["Access-Control-Allow-Origin"] = anyOrigin
		h["Access-Control-Expose-Headers"] = exposedHeaders
		if req.Method == http.MethodOptions {
			h.Set("Access-Control-Allow-Methods", "GET, HEAD, PUT, POST, DELETE, OPTIONS")
			h.Set("Access-Control-Allow-Headers", "Content-Type, X-Delete-Token, X-Expires")
			h.Set("Access-Control-Max-Age", "86400")
			return c.NoContent(http.StatusNoContent)
		}
		return next(c)
	}
}

var varyOrigin = []string{"Origin"}
