package web_test

import (
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/litepaste/litepaste/app/paste"
	"github.com/litepaste/litepaste/app/web"
)

func TestUploadPageBranding(t *testing.T) {
	tests := []struct {
		desc       string
		cfg        func(*web.Config)
		want       []string
		wantAbsent []string
	}{
		{
			desc: "title and subtitle are escaped",
			cfg: func(c *web.Config) {
				c.Title = `<script>alert("t")</script>`
				c.Subtitle = `<img src=x onerror=alert(1)> & co`
			},
			want:       []string{"&lt;script&gt;alert(&#34;t&#34;)&lt;/script&gt;", "&lt;img src=x onerror=alert(1)&gt; &amp; co"},
			wantAbsent: []string{`<script>alert`, `<img src=x`},
		},
		{
			desc:       "footer is HTML shown as given",
			cfg:        func(c *web.Config) { c.FooterHTML = `Run by <a href="https://example.org/imprint">Example</a>` },
			want:       []string{`Run by <a href="https://example.org/imprint">Example</a>`},
			wantAbsent: []string{"&lt;a href"},
		},
		{
			desc:       "docs shown with this instance's URL",
			cfg:        func(c *web.Config) { c.ShowDocs = true },
			want:       []string{"curl -T", "http://example.com/", "http://example.com/js/logpaste.js", "uploadText"},
			wantAbsent: nil,
		},
		{
			desc:       "docs hidden",
			cfg:        func(c *web.Config) { c.ShowDocs = false },
			wantAbsent: []string{"curl -T", "logpaste.js", "uploadText"},
		},
		{
			desc: "size limit shown",
			cfg:  func(c *web.Config) { c.MaxSize = 5 << 20 },
			want: []string{"5 MiB"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			ts := mustServer(t, withConfig(tt.cfg))
			rec := ts.mustAnswer(t, req(http.MethodGet, "/", nil), http.StatusOK)
			if got := rec.Header().Get("Content-Type"); !strings.HasPrefix(got, "text/html") {
				t.Errorf("Content-Type: got %q, want text/html", got)
			}
			page := rec.Body.String()
			for _, w := range tt.want {
				if !strings.Contains(page, w) {
					t.Errorf("page lacks %q", w)
				}
			}
			for _, w := range tt.wantAbsent {
				if strings.Contains(page, w) {
					t.Errorf("page holds %q, want it absent", w)
				}
			}
		})
	}
}

var (
	scriptTag     = regexp.MustCompile(`(?is)<script\b([^>]*)>(.*?)</script>`)
	inlineHandler = regexp.MustCompile(`(?i)<[^>]+\son[a-z]+=`)
)

func TestPagesRunNoInlineScript(t *testing.T) {
	ts := mustServer(t, withConfig(func(c *web.Config) {
		// Even an operator's footer script must not run.
		c.FooterHTML = `<script>alert("footer")</script>`
	}))
	a := ts.mustPut(t, "/", []byte("x"))
	for _, path := range []string{"/", "/delete/" + a.ID} {
		t.Run(path, func(t *testing.T) {
			rec := ts.mustAnswer(t, req(http.MethodGet, path, nil), http.StatusOK)
			csp := rec.Header().Get("Content-Security-Policy")
			if !strings.Contains(csp, "script-src 'self'") {
				t.Errorf("CSP: got %q, want script-src 'self'", csp)
			}
			// Inline styles may run (LogPaste footers use them); scripts never.
			for _, d := range strings.Split(csp, ";") {
				name, _, _ := strings.Cut(strings.TrimSpace(d), " ")
				for _, bad := range []string{"unsafe-inline", "unsafe-eval", "*"} {
					if strings.Contains(d, bad) && name != "style-src" {
						t.Errorf("CSP directive %q: want no %s", d, bad)
					}
				}
			}
			if !strings.Contains(csp, "default-src 'none'") {
				t.Errorf("CSP: got %q, want default-src 'none'", csp)
			}
			if got := rec.Header().Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options: got %q, want nosniff", got)
			}
			for _, m := range scriptTag.FindAllStringSubmatch(rec.Body.String(), -1) {
				attrs, body := m[1], m[2]
				if body != "" && !strings.Contains(body, "alert(\"footer\")") {
					t.Errorf("inline script in the page: %q", m[0])
				}
				if body == "" && !strings.Contains(attrs, "src=") {
					t.Errorf("script without src: %q", m[0])
				}
			}
			if inlineHandler.MatchString(rec.Body.String()) {
				t.Errorf("page has an inline event handler")
			}
		})
	}
}

func TestUploadPageExpiryChoices(t *testing.T) {
	day := 24 * time.Hour
	tests := []struct {
		desc         string
		policy       paste.Policy
		wantOptions  []string
		wantSelected string
	}{
		{desc: "no limit", policy: paste.Policy{}, wantOptions: []string{"1h", "1d", "1w", "30d", "never"}, wantSelected: "never"},
		{desc: "default of a day", policy: paste.Policy{Default: day}, wantOptions: []string{"1h", "1d", "1w", "30d", "never"}, wantSelected: "1d"},
		{desc: "at most a week", policy: paste.Policy{Default: day, Max: 7 * day}, wantOptions: []string{"1h", "1d", "1w"}, wantSelected: "1d"},
		{desc: "at most a week, default capped", policy: paste.Policy{Max: 7 * day}, wantOptions: []string{"1h", "1d", "1w"}, wantSelected: "1w"},
	}
	option := regexp.MustCompile(`<option value="([^"]+)"( selected)?>`)
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			ts := mustServer(t, withConfig(func(c *web.Config) { c.Expiry = tt.policy }))
			page := ts.do(req(http.MethodGet, "/", nil)).Body.String()
			var got []string
			selected := ""
			for _, m := range option.FindAllStringSubmatch(page, -1) {
				got = append(got, m[1])
				if m[2] != "" {
					selected = m[1]
				}
			}
			if strings.Join(got, ",") != strings.Join(tt.wantOptions, ",") {
				t.Errorf("options: got %v, want %v", got, tt.wantOptions)
			}
			if selected != tt.wantSelected {
				t.Errorf("selected: got %q, want %q", selected, tt.wantSelected)
			}
		})
	}
}

func TestDeletePage(t *testing.T) {
	ts := mustServer(t)
	a := ts.mustPut(t, "/", []byte("x"))
	rec := ts.mustAnswer(t, req(http.MethodGet, "/delete/"+a.ID, nil), http.StatusOK)
	if !strings.Contains(rec.Body.String(), a.ID) {
		t.Errorf("delete page does not name paste %s", a.ID)
	}
	if rec := ts.do(req(http.MethodGet, "/delete/..%2f..%2fetc", nil)); rec.Code != http.StatusNotFound {
		t.Errorf("delete page for a malformed id: got status %d, want 404", rec.Code)
	}
}

func TestClientScriptServedAtBothPaths(t *testing.T) {
	ts := mustServer(t)
	want, err := os.ReadFile("static/js/logpaste.js")
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/static/js/logpaste.js", "/js/logpaste.js"} {
		t.Run(path, func(t *testing.T) {
			rec := ts.mustAnswer(t, req(http.MethodGet, path, nil), http.StatusOK)
			if got := rec.Body.String(); got != string(want) {
				t.Errorf("body: got %d bytes, want the %d bytes of static/js/logpaste.js", len(got), len(want))
			}
			if !strings.Contains(rec.Body.String(), "uploadText") {
				t.Error("script lacks uploadText")
			}
			if got := rec.Header().Get("Content-Type"); !strings.HasPrefix(got, "text/javascript") {
				t.Errorf("Content-Type: got %q, want text/javascript", got)
			}
			etag := rec.Header().Get("ETag")
			if etag == "" {
				t.Fatal("ETag: got empty")
			}
			if rec := ts.do(req(http.MethodGet, path, nil, "If-None-Match", etag)); rec.Code != http.StatusNotModified {
				t.Errorf("conditional GET: got status %d, want 304", rec.Code)
			}
		})
	}
	t.Run("stylesheet", func(t *testing.T) {
		rec := ts.mustAnswer(t, req(http.MethodGet, "/static/css/style.css", nil), http.StatusOK)
		if got := rec.Header().Get("Content-Type"); !strings.HasPrefix(got, "text/css") {
			t.Errorf("Content-Type: got %q, want text/css", got)
		}
	})
}

// TestUploadPageKnowsTheLimit: the page refuses an oversize file before
// sending it, with the limit and the very words of the server's 413.
func TestUploadPageKnowsTheLimit(t *testing.T) {
	ts := mustServer(t, withConfig(func(c *web.Config) { c.MaxSize = 3 << 20 }))
	page := ts.do(req(http.MethodGet, "/", nil)).Body.String()
	tooBig := ts.do(req(http.MethodPut, "/", strings.NewReader(strings.Repeat("x", 3<<20+1))))
	if tooBig.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("PUT of 3 MiB + 1: got status %d, want 413", tooBig.Code)
	}
	for _, want := range []string{
		`data-max-bytes="3145728"`,
		`data-too-large="` + strings.TrimSpace(tooBig.Body.String()) + `"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
}
