package web_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/litepaste/litepaste/app/paste"
	"github.com/litepaste/litepaste/app/web"
)

const day = 24 * time.Hour

func withPolicy(p paste.Policy) option {
	return withConfig(func(c *web.Config) { c.Expiry = p })
}

func TestUploadAsksForALifetime(t *testing.T) {
	tests := []struct {
		desc    string
		policy  paste.Policy
		target  string
		headers []string
		want    time.Duration // paste.Never: no expiry
	}{
		{desc: "query parameter", target: "/?expires=1h", want: time.Hour},
		{desc: "header", target: "/", headers: []string{"X-Expires", "1d"}, want: day},
		{desc: "query wins over header", target: "/?expires=1w", headers: []string{"X-Expires", "1h"}, want: 7 * day},
		{desc: "Go duration", target: "/?expires=90m", want: 90 * time.Minute},
		{desc: "thirty days", target: "/?expires=30d", want: 30 * day},
		{desc: "never", target: "/?expires=never", want: paste.Never},
		{desc: "nothing asked, no default", target: "/", want: paste.Never},
		{desc: "nothing asked, default applies", policy: paste.Policy{Default: day}, target: "/", want: day},
		{desc: "nothing asked, maximum caps the default", policy: paste.Policy{Max: 7 * day}, target: "/", want: 7 * day},
		{desc: "asking for the maximum", policy: paste.Policy{Default: day, Max: 7 * day}, target: "/?expires=1w", want: 7 * day},
		{desc: "asking for less than the default", policy: paste.Policy{Default: day}, target: "/?expires=1h", want: time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			ts := mustServer(t, withPolicy(tt.policy))
			created := ts.clock.Now()
			rec := ts.mustAnswer(t, req(http.MethodPut, tt.target, strings.NewReader("expiring"), tt.headers...), http.StatusOK)
			var a putAnswer
			mustJSON(t, rec.Body.Bytes(), &a)
			header := rec.Header().Get("X-Paste-Expires")
			if tt.want == paste.Never {
				if a.Expires != "" || header != "" {
					t.Fatalf("expires: got %q and header %q, want none", a.Expires, header)
				}
				ts.clock.Advance(100 * 366 * day)
				ts.mustGet(t, a.ID)
				return
			}
			want := created.Add(tt.want).Format(time.RFC3339)
			if a.Expires != want || header != want {
				t.Errorf("expires: got %q and header %q, want %q", a.Expires, header, want)
			}
			ts.clock.Advance(tt.want - time.Second)
			rec = ts.do(req(http.MethodGet, "/"+a.ID, nil))
			if rec.Code != http.StatusOK {
				t.Fatalf("a second before expiry: got status %d, want 200", rec.Code)
			}
			if got := rec.Header().Get("X-Paste-Expires"); got != want {
				t.Errorf("X-Paste-Expires on read: got %q, want %q", got, want)
			}
			if got := maxAge(t, rec.Header().Get("Cache-Control")); got > 1 {
				t.Errorf("max-age a second before expiry: got %d, want at most 1", got)
			}
			ts.clock.Advance(time.Second)
			if rec := ts.do(req(http.MethodGet, "/"+a.ID, nil)); rec.Code != http.StatusNotFound {
				t.Errorf("at expiry: got status %d, want 404", rec.Code)
			}
			if rec := ts.do(req(http.MethodHead, "/"+a.ID, nil)); rec.Code != http.StatusNotFound {
				t.Errorf("HEAD at expiry: got status %d, want 404", rec.Code)
			}
		})
	}
}

func TestPostCarriesExpiryInHeaders(t *testing.T) {
	ts := mustServer(t)
	body, ctype := multipartBody(t, part{field: "_", content: "form paste"})
	rec := ts.mustAnswer(t, req(http.MethodPost, "/?expires=1h", body, "Content-Type", ctype), http.StatusOK)
	if got, want := rec.Header().Get("X-Paste-Expires"), ts.clock.Now().Add(time.Hour).Format(time.RFC3339); got != want {
		t.Errorf("X-Paste-Expires: got %q, want %q", got, want)
	}
	id := idFromURL(t, rec.Body.String())
	ts.clock.Advance(time.Hour)
	if rec := ts.do(req(http.MethodGet, "/"+id, nil)); rec.Code != http.StatusNotFound {
		t.Errorf("after an hour: got status %d, want 404", rec.Code)
	}
}

func TestRefusedLifetimes(t *testing.T) {
	tests := []struct {
		desc     string
		policy   paste.Policy
		target   string
		headers  []string
		wantHint string
	}{
		{desc: "nonsense", target: "/?expires=tomorrow", wantHint: "or never"},
		{desc: "negative", target: "/?expires=-1h", wantHint: "or never"},
		{desc: "zero days", target: "/", headers: []string{"X-Expires", "0d"}, wantHint: "or never"},
		{desc: "longer than the maximum", policy: paste.Policy{Max: 7 * day}, target: "/?expires=30d", wantHint: "at most 1w"},
		{desc: "never with a maximum", policy: paste.Policy{Max: day}, target: "/?expires=never", wantHint: "at most 1d"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			ts := mustServer(t, withPolicy(tt.policy))
			rec := ts.do(req(http.MethodPut, tt.target, strings.NewReader("x"), tt.headers...))
			ts.mustRefuse(t, rec, http.StatusBadRequest, "")
			msg := rec.Body.String()
			if !strings.HasPrefix(msg, "invalid expiry") || !strings.Contains(msg, tt.wantHint) || strings.Count(msg, "\n") != 1 {
				t.Errorf("body: got %q, want one line about the expiry with %q", msg, tt.wantHint)
			}
		})
	}
}

func TestDeleteWithToken(t *testing.T) {
	ts := mustServer(t)
	a := ts.mustPut(t, "/", []byte("delete me"))
	other := ts.mustPut(t, "/", []byte("not mine"))

	tests := []struct {
		desc       string
		id         string
		headers    []string
		wantStatus int
	}{
		{desc: "no token", id: a.ID, wantStatus: http.StatusForbidden},
		{desc: "empty token", id: a.ID, headers: []string{"X-Delete-Token", ""}, wantStatus: http.StatusForbidden},
		{desc: "wrong token", id: a.ID, headers: []string{"X-Delete-Token", "wrong"}, wantStatus: http.StatusForbidden},
		{desc: "another paste's token", id: a.ID, headers: []string{"X-Delete-Token", other.DeleteToken}, wantStatus: http.StatusForbidden},
		{desc: "token one character short", id: a.ID, headers: []string{"X-Delete-Token", a.DeleteToken[1:]}, wantStatus: http.StatusForbidden},
		{desc: "token as a query parameter is not enough", id: a.ID + "?token=" + a.DeleteToken, wantStatus: http.StatusForbidden},
		{desc: "right token", id: a.ID, headers: []string{"X-Delete-Token", a.DeleteToken}, wantStatus: http.StatusNoContent},
		{desc: "deleted already", id: a.ID, headers: []string{"X-Delete-Token", a.DeleteToken}, wantStatus: http.StatusNotFound},
		{desc: "unknown paste", id: "ZZZZZZZZ", headers: []string{"X-Delete-Token", a.DeleteToken}, wantStatus: http.StatusNotFound},
		{desc: "malformed id", id: "nope", headers: []string{"X-Delete-Token", a.DeleteToken}, wantStatus: http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			ts.mustAnswer(t, req(http.MethodDelete, "/"+tt.id, nil, tt.headers...), tt.wantStatus)
			if tt.wantStatus == http.StatusForbidden {
				ts.mustGet(t, a.ID)
			}
		})
	}
	if rec := ts.do(req(http.MethodGet, "/"+a.ID, nil)); rec.Code != http.StatusNotFound {
		t.Errorf("read after delete: got status %d, want 404", rec.Code)
	}
	ts.mustGet(t, other.ID)
}

func TestDeleteWithTheTokenFromPost(t *testing.T) {
	ts := mustServer(t)
	rec := ts.do(req(http.MethodPost, "/", strings.NewReader("posted")))
	id, token := idFromURL(t, rec.Body.String()), rec.Header().Get("X-Delete-Token")
	if rec := ts.do(req(http.MethodDelete, "/"+id, nil, "X-Delete-Token", token)); rec.Code != http.StatusNoContent {
		t.Fatalf("delete: got status %d (%q), want 204", rec.Code, rec.Body.String())
	}
	if rec := ts.do(req(http.MethodGet, "/"+id, nil)); rec.Code != http.StatusNotFound {
		t.Errorf("read after delete: got status %d, want 404", rec.Code)
	}
}

func TestDeleteOfAnExpiredPasteIs404(t *testing.T) {
	ts := mustServer(t)
	a := ts.mustPut(t, "/?expires=1h", []byte("soon gone"))
	ts.clock.Advance(time.Hour)
	if rec := ts.do(req(http.MethodDelete, "/"+a.ID, nil, "X-Delete-Token", a.DeleteToken)); rec.Code != http.StatusNotFound {
		t.Errorf("got status %d, want 404", rec.Code)
	}
}

func TestDeleteOfALargePaste(t *testing.T) {
	ts := mustServer(t, withConfig(func(c *web.Config) { c.MaxSize = 4 << 20 }))
	a := ts.mustPut(t, "/", []byte(strings.Repeat("large paste ", (3<<20)/12)))
	if rec := ts.do(req(http.MethodDelete, "/"+a.ID, nil, "X-Delete-Token", a.DeleteToken)); rec.Code != http.StatusNoContent {
		t.Fatalf("got status %d, want 204", rec.Code)
	}
	if rec := ts.do(req(http.MethodGet, "/"+a.ID, nil)); rec.Code != http.StatusNotFound {
		t.Errorf("read after delete: got status %d, want 404", rec.Code)
	}
	st, err := ts.store.Stats(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if st.Pastes != 0 || st.Bytes != 0 {
		t.Errorf("store after delete: got %d pastes, %d bytes, want none", st.Pastes, st.Bytes)
	}
}
