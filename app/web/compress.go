package web

import (
	"net/http"

	"github.com/klauspost/compress/gzhttp"
	"github.com/labstack/echo/v4"
)

// Pastes at least compressMinSize long go gzip-encoded to clients that
// accept it; below that the saving is a few hundred bytes at most.
const compressMinSize = 1024

// gzipETagSuffix sets a gzip-encoded paste's ETag apart from the plain one:
// each encoding is its own representation to a cache (RFC 9110, 8.8.3).
const gzipETagSuffix = "-gzip"

// newGzip is gzhttp set for pastes: gzip only (every client that asks for
// compression decodes it) at gzhttp's default level (docs/performance.md
// compares levels and Echo's middleware).
func newGzip() (func(http.Handler) http.HandlerFunc, error) {
	return gzhttp.NewWrapper(
		gzhttp.MinSize(compressMinSize),
		gzhttp.EnableZstd(false),
		gzhttp.SuffixETag(gzipETagSuffix),
	)
}

// compressed serves next through gzhttp, which picks the encoding. Errors
// are answered inside, while gzhttp's writer is still live.
func (s *Server) compressed(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		res := c.Response()
		// No Accept-Encoding, no encoding: such a request skips the wrapper.
		// So does a Range request: its ranges count the plain bytes, and
		// gzhttp would encode a multipart/byteranges answer whole.
		req := c.Request()
		if req.Header.Get("Accept-Encoding") == "" || req.Header.Get("Range") != "" {
			res.Header().Add(echo.HeaderVary, echo.HeaderAcceptEncoding)
			return next(c)
		}
		w := res.Writer
		defer func() { res.Writer = w }()
		s.gzip(http.HandlerFunc(func(gw http.ResponseWriter, _ *http.Request) {
			res.Writer = gw
			if err := next(c); err != nil {
				c.Error(err)
			}
		})).ServeHTTP(w, c.Request())
		return nil
	}
}
