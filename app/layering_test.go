package main

import (
	"go/build"
	"slices"
	"strings"
	"testing"
)

// The import rules: the domain imports nothing of ours, each adapter at most
// the domain, and only main wires them together.
func TestPackagesImportOnlyWhatTheLayersAllow(t *testing.T) {
	const mod = "github.com/litepaste/litepaste/app/"
	allowed := map[string][]string{
		"paste":      nil,
		"sqlite":     {"paste"},
		"web":        {"paste"},
		"litestream": nil,
		"metrics":    nil,
	}
	for pkg, may := range allowed {
		p, err := build.ImportDir(pkg, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range p.Imports {
			if ours, ok := strings.CutPrefix(imp, mod); ok && !slices.Contains(may, ours) {
				t.Errorf("app/%s imports app/%s; it may import only %q", pkg, ours, may)
			}
		}
	}
}
