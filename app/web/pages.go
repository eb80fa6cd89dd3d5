package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/litepaste/litepaste/app/paste"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFS embed.FS

// pageCSP allows the page its own scripts and API, and nothing else: no
// inline script runs, not even from the operator's footer. Inline styles and
// https images are allowed so that LogPaste footers (style attributes, a
// logo) render as they did; the page holds no paste content to style.
const pageCSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: https:; " +
	"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// baseTemplate is the layout every page shares (head, main, scripts); each
// page file defines the blocks it fills.
const baseTemplate = "templates/base.html"

// parseTemplates parses each page with the base layout, as its own set, so
// that the pages' blocks do not overwrite each other.
func parseTemplates() (map[string]*template.Template, error) {
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, name := range names {
		if name == baseTemplate {
			continue
		}
		t, err := template.ParseFS(templateFiles, baseTemplate, name)
		if err != nil {
			return nil, err
		}
		pages[path.Base(name)] = t
	}
	return pages, nil
}

type expiryChoice struct {
	Value    string
	Label    string
	Selected bool
}

// expiryChoices are the page's lifetime options that the policy allows.
func expiryChoices(p paste.Policy) []expiryChoice {
	all := []struct {
		value string
		label string
		d     time.Duration
	}{
		{"1h", "1 hour", time.Hour},
		{"1d", "1 day", 24 * time.Hour},
		{"1w", "1 week", 7 * 24 * time.Hour},
		{"30d", "30 days", 30 * 24 * time.Hour},
		{"never", "Never", paste.Never},
	}
	def, _ := p.Lifetime("")
	var out []expiryChoice
	for _, c := range all {
		if _, err := p.Lifetime(c.value); err != nil {
			continue
		}
		out = append(out, expiryChoice{Value: c.value, Label: c.label, Selected: c.d == def})
	}
	return out
}

type pageData struct {
	Title    string
	Subtitle string
	Footer   template.HTML
	ShowDocs bool
	BaseURL  string
	MaxSize  string
	// MaxBytes and TooLarge let the page refuse an oversize file before
	// sending it, in the server's words.
	MaxBytes int64
	TooLarge string
	Expiries []expiryChoice
	ID       string
}

func (s *Server) render(c echo.Context, name string, data pageData) error {
	data.Title = s.cfg.Title
	data.Subtitle = s.cfg.Subtitle
	// The operator's own text, documented in -h as HTML shown as is.
	data.Footer = template.HTML(s.cfg.FooterHTML) // #nosec G203 -- operator-supplied configuration
	data.ShowDocs = s.cfg.ShowDocs
	data.BaseURL = s.proxies.baseURL(c.Request())
	data.MaxSize = formatSize(s.cfg.MaxSize)
	data.MaxBytes = s.cfg.MaxSize
	data.TooLarge = s.tooLargeMessage()
	data.Expiries = s.choices
	var buf bytes.Buffer
	page, ok := s.pages[name]
	if !ok {
		return fmt.Errorf("no page template %q", name)
	}
	if err := page.ExecuteTemplate(&buf, "base", data); err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Content-Security-Policy", pageCSP)
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-cache")
	return c.HTMLBlob(http.StatusOK, buf.Bytes())
}

func (s *Server) indexPage(c echo.Context) error {
	return s.render(c, "index.html", pageData{})
}

// deletePage confirms a deletion; the token stays in the URL's fragment, so
// it never reaches the server's logs.
func (s *Server) deletePage(c echo.Context) error {
	id, err := paste.ParseID(c.Param("id"))
	if err != nil {
		return err
	}
	return s.render(c, "delete.html", pageData{ID: id.String()})
}

// staticFiles are the embedded assets, read once at start.
type staticFiles map[string]staticFile

type staticFile struct {
	body  []byte
	ctype string
	etag  string
}

func loadStatic() (staticFiles, error) {
	files := staticFiles{}
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		ctype := mime.TypeByExtension(path.Ext(p))
		if strings.HasPrefix(ctype, "text/javascript") || ctype == "" && path.Ext(p) == ".js" {
			ctype = "text/javascript; charset=utf-8"
		}
		files[strings.TrimPrefix(p, "static/")] = staticFile{body: body, ctype: ctype, etag: paste.ETag(body)}
		return nil
	})
	return files, err
}

func (s *Server) staticFile(c echo.Context) error {
	return s.serveStatic(c, c.Param("*"))
}

func (s *Server) logpasteJS(c echo.Context) error {
	return s.serveStatic(c, "js/logpaste.js")
}

func (s *Server) serveStatic(c echo.Context, name string) error {
	f, ok := s.static[name]
	if !ok {
		return echo.ErrNotFound
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, f.ctype)
	h.Set("ETag", f.etag)
	h.Set("Cache-Control", "public, max-age=300")
	http.ServeContent(c.Response(), c.Request(), "", time.Time{}, bytes.NewReader(f.body))
	return nil
}

// formatLifetime renders a policy duration the way the page and errors say it.
func formatLifetime(d time.Duration) string {
	day := 24 * time.Hour
	switch {
	case d%(7*day) == 0:
		return strconv.Itoa(int(d/(7*day))) + "w"
	case d%day == 0:
		return strconv.Itoa(int(d/day)) + "d"
	}
	return d.String()
}
