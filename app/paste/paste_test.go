package paste_test

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/litepaste/litepaste/app/paste"
)

const day = 24 * time.Hour

func TestParseLifetime(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{in: "never", want: paste.Never},
		{in: "NEVER", want: paste.Never},
		{in: " never ", want: paste.Never},
		{in: "0", want: paste.Never},
		{in: "1h", want: time.Hour},
		{in: "90m", want: 90 * time.Minute},
		{in: "1h30m", want: 90 * time.Minute},
		{in: " 1H ", want: time.Hour},
		{in: "1s", want: time.Second},
		{in: "1d", want: day},
		{in: "30d", want: 30 * day},
		{in: "1w", want: 7 * day},
		{in: "52w", want: 52 * 7 * day},
		{in: "36600d", want: 36600 * day},
		{in: "", wantErr: true},
		{in: "   ", wantErr: true},
		{in: "d", wantErr: true},
		{in: "w", wantErr: true},
		{in: "0d", wantErr: true},
		{in: "-1d", wantErr: true},
		{in: "-1h", wantErr: true},
		{in: "0s", wantErr: true},
		{in: "1.5d", wantErr: true},
		{in: "36601d", wantErr: true},
		{in: "99999999999999999999d", wantErr: true},
		{in: "1x", wantErr: true},
		{in: "tomorrow", wantErr: true},
		{in: "1 d", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := paste.ParseLifetime(tt.in)
			checkLifetime(t, fmt.Sprintf("ParseLifetime(%q)", tt.in), got, err, tt.want, tt.wantErr)
		})
	}
}

// checkLifetime fails unless call gave want, or ErrInvalidExpiry when wantErr.
func checkLifetime(t *testing.T, call string, got time.Duration, err error, want time.Duration, wantErr bool) {
	t.Helper()
	if wantErr {
		if !errors.Is(err, paste.ErrInvalidExpiry) {
			t.Errorf("%s: got %v, %v, want ErrInvalidExpiry", call, got, err)
		}
		return
	}
	if err != nil || got != want {
		t.Errorf("%s: got %v, %v, want %v", call, got, err, want)
	}
}

func TestPolicyLifetime(t *testing.T) {
	tests := []struct {
		desc      string
		policy    paste.Policy
		requested string
		want      time.Duration
		wantErr   bool
	}{
		{desc: "no policy, nothing asked", requested: "", want: paste.Never},
		{desc: "no policy, asked", requested: "1d", want: day},
		{desc: "no policy, never", requested: "never", want: paste.Never},
		{desc: "default applies", policy: paste.Policy{Default: day}, requested: "", want: day},
		{desc: "asked beats default", policy: paste.Policy{Default: day}, requested: "1w", want: 7 * day},
		{desc: "never beats default without a maximum", policy: paste.Policy{Default: day}, requested: "never", want: paste.Never},
		{desc: "at the maximum", policy: paste.Policy{Max: 7 * day}, requested: "1w", want: 7 * day},
		{desc: "under the maximum", policy: paste.Policy{Max: 7 * day}, requested: "1h", want: time.Hour},
		{desc: "over the maximum is refused", policy: paste.Policy{Max: 7 * day}, requested: "8d", wantErr: true},
		{desc: "never with a maximum is refused", policy: paste.Policy{Max: 7 * day}, requested: "never", wantErr: true},
		{desc: "unlimited default is capped", policy: paste.Policy{Max: 7 * day}, requested: "", want: 7 * day},
		{desc: "default over the maximum is capped", policy: paste.Policy{Default: 30 * day, Max: 7 * day}, requested: "", want: 7 * day},
		{desc: "nonsense", requested: "soon", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			got, err := tt.policy.Lifetime(tt.requested)
			checkLifetime(t, fmt.Sprintf("Lifetime(%q)", tt.requested), got, err, tt.want, tt.wantErr)
		})
	}
}

func TestNewPaste(t *testing.T) {
	local := time.FixedZone("UTC+2", 2*60*60)
	created := time.Date(2026, 11, 3, 12, 0, 0, 0, local)
	body := []byte("body")
	hash := paste.HashToken("token")

	p := paste.New(body, created, time.Hour, hash)
	if p.Created.Location() != time.UTC || !p.Created.Equal(created) {
		t.Errorf("Created: got %v, want %v in UTC", p.Created, created)
	}
	if want := created.Add(time.Hour); !p.Expires.Equal(want) {
		t.Errorf("Expires: got %v, want %v", p.Expires, want)
	}
	if p.ETag != "" || string(p.Body) != "body" || p.ID != "" || string(p.DeleteTokenHash) != string(hash) {
		t.Errorf("New: got %+v, want the given fields", p)
	}
	if never := paste.New(body, created, paste.Never, nil); !never.Expires.IsZero() {
		t.Errorf("Expires of a paste that never expires: got %v, want the zero time", never.Expires)
	}
}

func TestExpired(t *testing.T) {
	created := time.Date(2026, 11, 3, 12, 0, 0, 0, time.UTC)
	p := paste.New([]byte("x"), created, time.Hour, nil)
	tests := []struct {
		desc string
		at   time.Time
		want bool
	}{
		{desc: "at creation", at: created, want: false},
		{desc: "a nanosecond before", at: created.Add(time.Hour - 1), want: false},
		{desc: "at the instant", at: created.Add(time.Hour), want: true},
		{desc: "after", at: created.Add(2 * time.Hour), want: true},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			if got := p.Expired(tt.at); got != tt.want {
				t.Errorf("Expired: got %v, want %v", got, tt.want)
			}
		})
	}
	forever := paste.New([]byte("x"), created, paste.Never, nil)
	if forever.Expired(created.Add(200 * 365 * day)) {
		t.Error("a paste that never expires expired")
	}
}

func TestETag(t *testing.T) {
	a, b := paste.ETag([]byte("same")), paste.ETag([]byte("same"))
	if a != b {
		t.Errorf("same bytes: got %q and %q, want equal tags", a, b)
	}
	if c := paste.ETag([]byte("Same")); c == a {
		t.Errorf("different bytes: both got %q", a)
	}
	if !strings.HasPrefix(a, `"`) || !strings.HasSuffix(a, `"`) || strings.HasPrefix(a, `W/`) || len(a) < 18 {
		t.Errorf("ETag %q: want a quoted strong tag", a)
	}
	if paste.ETag(nil) != paste.ETag([]byte{}) {
		t.Error("nil and empty bodies got different tags")
	}
}

func TestCheckBody(t *testing.T) {
	tests := []struct {
		desc string
		body string
		ok   bool
	}{
		{desc: "nothing", body: ""},
		{desc: "spaces", body: "   "},
		{desc: "every ASCII space", body: " \t\n\v\f\r"},
		{desc: "unicode spaces", body: "\u00a0\u2003\n"},
		{desc: "a letter", body: "x", ok: true},
		{desc: "padded text", body: "\n  x  \n", ok: true},
		{desc: "a NUL byte", body: "\x00", ok: true},
		{desc: "invalid UTF-8", body: "\xff", ok: true},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			err := paste.CheckBody([]byte(tt.body))
			if tt.ok && err != nil {
				t.Errorf("CheckBody(%q): got %v, want nil", tt.body, err)
			}
			if !tt.ok && !errors.Is(err, paste.ErrEmpty) {
				t.Errorf("CheckBody(%q): got %v, want ErrEmpty", tt.body, err)
			}
		})
	}
}

func TestDeleteTokens(t *testing.T) {
	token, hash, err := paste.NewDeleteToken()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) < 16 {
		t.Fatalf("token %q: want URL-safe base64 of at least 16 random bytes (got %d, %v)", token, len(raw), err)
	}
	if string(hash) != string(paste.HashToken(token)) {
		t.Error("returned hash is not HashToken(token)")
	}
	if strings.Contains(string(hash), token) {
		t.Error("the stored hash holds the token itself")
	}
	other, otherHash, err := paste.NewDeleteToken()
	if err != nil {
		t.Fatal(err)
	}
	if other == token || string(otherHash) == string(hash) {
		t.Error("two tokens are the same")
	}

	tests := []struct {
		desc  string
		hash  []byte
		token string
		want  bool
	}{
		{desc: "right token", hash: hash, token: token, want: true},
		{desc: "another token", hash: hash, token: other},
		{desc: "one character changed", hash: hash, token: flipLast(token)},
		{desc: "prefix", hash: hash, token: token[:len(token)-1]},
		{desc: "with a suffix", hash: hash, token: token + "x"},
		{desc: "empty token", hash: hash, token: ""},
		{desc: "no stored hash", hash: nil, token: token},
		{desc: "no stored hash, empty token", hash: nil, token: ""},
		{desc: "empty token against its own hash", hash: paste.HashToken(""), token: ""},
		{desc: "the hash itself as the token", hash: hash, token: string(hash)},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			if got := paste.TokenMatches(tt.hash, tt.token); got != tt.want {
				t.Errorf("TokenMatches: got %v, want %v", got, tt.want)
			}
		})
	}
}

func flipLast(s string) string {
	last := s[len(s)-1]
	if last == 'A' {
		return s[:len(s)-1] + "B"
	}
	return s[:len(s)-1] + "A"
}
