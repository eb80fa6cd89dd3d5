package dockerfile_test

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/distribution/reference"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	dfversion "github.com/moby/buildkit/frontend/dockerfile/version"
	"github.com/moby/buildkit/frontend/dockerui"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// offlineImages answers BuildKit's base-image lookups without a registry: every
// image is an empty linux one of the requested platform. It records what was asked.
type offlineImages struct {
	mu   sync.Mutex
	refs []string
}

func (o *offlineImages) ResolveImageConfig(_ context.Context, ref string, opt sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	o.mu.Lock()
	o.refs = append(o.refs, ref)
	o.mu.Unlock()
	p := ocispecs.Platform{OS: "linux", Architecture: "amd64"}
	if opt.ImageOpt != nil && opt.ImageOpt.Platform != nil {
		p = *opt.ImageOpt.Platform
	}
	cfg, err := json.Marshal(ocispecs.Image{
		Platform: p,
		Config:   ocispecs.ImageConfig{Env: []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}},
		RootFS:   ocispecs.RootFS{Type: "layers", DiffIDs: []digest.Digest{digest.FromString(ref)}},
	})
	return ref, "", cfg, err
}

// TestLint converts the Dockerfile to LLB for each target platform with every
// BuildKit lint rule on (the Dockerfile's own "# check=" directive turns
// experimental rules on and warnings into errors), and fails on any warning.
func TestLint(t *testing.T) {
	dt := mustRead(t, "Dockerfile")
	for _, arch := range []string{"amd64", "arm64"} {
		t.Run(arch, func(t *testing.T) {
			images := &offlineImages{}
			var warnings []string
			_, err := dockerfile2llb.Dockerfile2LLB(context.Background(), dt, dockerfile2llb.ConvertOpt{
				MetaResolver:   images,
				AllStages:      true,
				TargetPlatform: &ocispecs.Platform{OS: "linux", Architecture: arch},
				Config: dockerui.Config{
					// Cross builds run on an amd64 builder, as they do in CI services.
					BuildPlatforms: []ocispecs.Platform{{OS: "linux", Architecture: "amd64"}},
				},
				Warn: func(rule, _, url, msg string, loc []parser.Range) {
					line := 0
					if len(loc) > 0 {
						line = loc[0].Start.Line
					}
					warnings = append(warnings, fmt.Sprintf("Dockerfile:%d: %s: %s (%s)", line, rule, msg, url))
				},
			})
			for _, w := range warnings {
				t.Error(w)
			}
			if err != nil {
				t.Fatalf("BuildKit rejects the Dockerfile: %v", err)
			}
			if len(images.refs) == 0 {
				t.Fatal("no base image was resolved: the conversion did not run")
			}
			for _, ref := range images.refs {
				checkPinned(t, ref)
			}
		})
	}
}

var versionTag = regexp.MustCompile(`^\d+\.\d+\.\d+(-[a-z0-9.]+)?$`)

// checkPinned wants an exact version tag and a digest on every base image.
func checkPinned(t *testing.T, ref string) {
	t.Helper()
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		t.Errorf("base image %q: %v", ref, err)
		return
	}
	tagged, ok := named.(reference.Tagged)
	if !ok || !versionTag.MatchString(tagged.Tag()) {
		t.Errorf("base image %q: want an exact version tag such as :1.2.3", ref)
	}
	if _, ok := named.(reference.Digested); !ok {
		t.Errorf("base image %q: want it pinned by digest (@sha256:...)", ref)
	}
}

// syntaxDirective is "# syntax=docker/dockerfile:MAJOR.MINOR@sha256:...".
var syntaxDirective = regexp.MustCompile(`^docker/dockerfile:(\d+\.\d+)(\.\d+)?@sha256:[0-9a-f]{64}$`)

// TestFrontendPinned: the build uses the frontend whose rules TestLint runs,
// pinned by digest, and makes every lint warning a build error.
func TestFrontendPinned(t *testing.T) {
	dt := mustRead(t, "Dockerfile")
	syntax, _, _, ok := parser.ParseDirective("syntax", dt)
	if !ok {
		t.Fatal("no # syntax= directive: the build would use whatever frontend the builder has")
	}
	m := syntaxDirective.FindStringSubmatch(syntax)
	if m == nil {
		t.Fatalf("# syntax=%s: want docker/dockerfile:X.Y@sha256:<digest>", syntax)
	}
	if got, want := m[1], dfversion.Version(); !strings.HasPrefix(want, got+".") {
		t.Errorf("# syntax= pins frontend %s, but this test lints with the rules of frontend %s (github.com/moby/buildkit in go.mod): keep them the same", got, want)
	}
	check, _, _, ok := parser.ParseDirective("check", dt)
	if !ok || !strings.Contains(check, "error=true") {
		t.Errorf("# check=%s: want error=true, so that a real build fails on the warnings this test fails on", check)
	}
}
