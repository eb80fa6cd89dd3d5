package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

var readMethods = []string{http.MethodGet, http.MethodHead}

// routes is the whole URL map, top to bottom.
func (s *Server) routes() *echo.Echo {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = s.handleError
	e.IPExtractor = s.proxies.clientIP
	// LogPaste matched /ID as a prefix: links to /ID/ keep working.
	e.Pre(middleware.RemoveTrailingSlash())

	e.Use(s.logRequests, recoverPanics, secureHeaders, cors)

	// Health paths are shorter than a paste ID, so they can never shadow one.
	get := func(path string, h echo.HandlerFunc) { e.Match(readMethods, path, h) }
	get("/healthz", s.healthz)
	get("/readyz", s.readyz)

	get("/", s.indexPage)
	get("/delete/:id", s.deletePage)
	get("/static/*", s.staticFile)
	// LogPaste's docs link here; it served the file only under /static.
	get("/js/logpaste.js", s.logpasteJS)

	// A replica passes every write to the writer.
	put, post, del := s.putPaste, s.postPaste, s.deletePaste
	if s.fwd != nil {
		put, post, del = s.forwardUpload(false), s.forwardUpload(true), s.forwardWrite
	}
	get("/:id", s.compressed(s.getPaste))
	e.DELETE("/:id", del)

	// Uploads: PUT (curl -T file https://host/) and POST (curl -F, forms) to
	// any path, as LogPaste took them (its page posted to /upload).
	e.PUT("/*", put)
	e.POST("/*", post)
	return e
}
