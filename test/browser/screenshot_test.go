package browser_test

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// publicHost is the address the screenshots show.
const publicHost = "paste.example.com"

// sampleLog is the file the README's screenshot shows chosen and uploaded.
const sampleLog = `2026-11-26T09:14:02.118Z INFO  orders-api starting v1.4.2 (go1.26.8 linux/amd64)
2026-11-26T09:14:02.121Z INFO  db         opened /data/orders.db (WAL, busy_timeout=5000)
2026-11-26T09:14:02.187Z INFO  http       listening on :8080
2026-11-26T09:15:37.402Z WARN  http       slow request GET /api/orders?page=12 took 2.31s
2026-11-26T09:15:41.990Z ERROR worker     job 8841 failed: gateway: deadline exceeded
2026-11-26T09:15:41.990Z INFO  worker     job 8841: retrying in 30s (attempt 2 of 5)
2026-11-26T09:16:12.004Z INFO  worker     job 8841 succeeded after 2 attempts
2026-11-26T09:16:12.010Z INFO  http       GET /api/orders/8841 200 14ms`

// TestScreenshots renders docs/screenshot.png and docs/screenshot-dark.png for
// the README. It only writes them when UPDATE_SCREENSHOTS=1, so CI never
// rewrites committed files:
//
//	make build && cd test/browser && UPDATE_SCREENSHOTS=1 go test -run Screenshots ./...
func TestScreenshots(t *testing.T) {
	if os.Getenv("UPDATE_SCREENSHOTS") != "1" {
		t.Skip("set UPDATE_SCREENSHOTS=1 to render docs/screenshot*.png")
	}
	docs := filepath.Join("..", "..", "docs")
	if err := os.MkdirAll(docs, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ scheme, file string }{
		{"light", "screenshot.png"},
		{"dark", "screenshot-dark.png"},
	} {
		t.Run(c.scheme, func(t *testing.T) {
			// The page shows the public address a reverse proxy forwards,
			// not the test's random port.
			s := startServer(t, "-trustedproxies", "127.0.0.1/32,::1/128")
			tb := newTab(t, 1200, 800)
			asPublic := chromedp.Func(func(ctx context.Context, tgt *chromedp.Target) error {
				_, err := chromedp.Call(ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{
					Headers: network.Headers{"X-Forwarded-Proto": "https", "X-Forwarded-Host": publicHost},
				})
				return err
			})
			setScheme := chromedp.Func(func(ctx context.Context, tgt *chromedp.Target) error {
				_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
					Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: c.scheme}},
				})
				return err
			})
			tb.do(t, "set up the viewport", chromedp.EmulateViewport(1200, 800), setScheme, asPublic)
			tb.navigate(t, s.URL+"/")
			logPath := filepath.Join(t.TempDir(), "orders-api.log")
			if err := os.WriteFile(logPath, []byte(sampleLog+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			chooseFile(t, tb, logPath)
			tb.waitFor(t, "the file's preview", `document.getElementById("upload-textarea").value !== ""`)
			tb.do(t, "upload the sample file",
				chromedp.SetValue(chromedp.ID("expires"), "1w"),
				chromedp.Click(chromedp.ID("upload")),
				chromedp.WaitVisible(chromedp.ID("paste-link")),
				chromedp.Blur(chromedp.ID("upload")),
			)
			if link := eval[string](t, tb, `document.getElementById("paste-link").href`); !strings.HasPrefix(link, "https://"+publicHost+"/") {
				t.Fatalf("link %q does not use the forwarded address", link)
			}
			buf := run(t, tb, "screenshot", chromedp.CaptureScreenshot())
			img, err := png.Decode(bytes.NewReader(buf))
			if err != nil {
				t.Fatalf("the screenshot is not a PNG: %v", err)
			}
			if b := img.Bounds(); b.Dx() != 1200 || b.Dy() != 800 {
				t.Errorf("screenshot is %dx%d, want 1200x800", b.Dx(), b.Dy())
			}
			out := filepath.Join(docs, c.file)
			if err := os.WriteFile(out, buf, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("wrote %s (%d bytes)", out, len(buf))
		})
	}
}
