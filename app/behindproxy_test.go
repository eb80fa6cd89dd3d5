package main

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
)

// postForm uploads body as LogPaste's form client does (curl -F '_=<-').
func postForm(t *testing.T, url string, body string, headers ...string) string {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	if err := w.WriteField("_", body); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	res, answer := httpDo(t, http.MethodPost, url, &buf, append([]string{"Content-Type", w.FormDataContentType()}, headers...)...)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: %d %s", url, res.StatusCode, answer)
	}
	return strings.TrimSpace(string(answer))
}

// TestLogPasteBehindProxy: LogPaste's LP_BEHIND_PROXY makes links follow the
// proxy's scheme, as it did, but only for a proxy on a local address.
func TestLogPasteBehindProxy(t *testing.T) {
	forwarded := []string{"X-Forwarded-Proto", "https", "X-Forwarded-Host", "paste.example.com"}
	tests := []struct {
		desc string
		env  map[string]string
		want string
	}{
		{"LP_BEHIND_PROXY: the loopback proxy is believed", map[string]string{"LP_BEHIND_PROXY": "y"}, "https://paste.example.com/"},
		{"unset: forwarded headers are ignored", nil, "http://127.0.0.1:"},
		{"TRUSTED_PROXIES without loopback wins", map[string]string{"LP_BEHIND_PROXY": "y", "TRUSTED_PROXIES": "10.0.0.0/8"}, "http://127.0.0.1:"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			p := startProgram(t, tt.env)
			if got := postForm(t, p.base+"/", "behind a proxy\n", forwarded...); !strings.HasPrefix(got, tt.want) {
				t.Errorf("link %q, want it to start with %q", got, tt.want)
			}
		})
	}
}
