package dockerfile_test

import (
	"io/fs"
	"path"
	"path/filepath"
	"testing"

	"golang.org/x/mod/modfile"
)

// TestModulesAgree: every module of the repository asks for the same Go (the
// build image's, see TestServerBuild) and is named after where it sits, so
// that no module builds with another Go than the rest and a path says where
// its code is.
func TestModulesAgree(t *testing.T) {
	const root = "github.com/litepaste/litepaste"
	rootMod, err := modfile.ParseLax("go.mod", mustRead(t, "go.mod"), nil)
	if err != nil || rootMod.Go == nil {
		t.Fatalf("go.mod: no go directive (%v)", err)
	}
	found := 0
	err = filepath.WalkDir(repoRoot, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata" || d.Name() == "bin") {
			return filepath.SkipDir
		}
		if d.Name() != "go.mod" {
			return nil
		}
		rel, err := filepath.Rel(repoRoot, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		found++
		mf, err := modfile.ParseLax(rel, mustRead(t, rel), nil)
		if err != nil {
			t.Errorf("%s: %v", rel, err)
			return nil
		}
		if mf.Go == nil {
			t.Errorf("%s: no go directive, want go %s as in go.mod", rel, rootMod.Go.Version)
		} else if mf.Go.Version != rootMod.Go.Version {
			t.Errorf("%s: go %s, want go %s as in go.mod", rel, mf.Go.Version, rootMod.Go.Version)
		}
		if mf.Toolchain != nil {
			t.Errorf("%s: toolchain %s: the go directive is the one Go version", rel, mf.Toolchain.Name)
		}
		want := root
		if dir := path.Dir(rel); dir != "." {
			want = root + "/" + dir
		}
		if mf.Module == nil {
			t.Errorf("%s: no module line, want module %s", rel, want)
		} else if mf.Module.Mod.Path != want {
			t.Errorf("%s: module %s, want %s", rel, mf.Module.Mod.Path, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found < 2 {
		t.Fatalf("found %d go.mod files under %s", found, repoRoot)
	}
}
