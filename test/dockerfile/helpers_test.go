// Package dockerfile_test checks litepaste's Dockerfile without a Docker engine:
// BuildKit's own parser and lint rules run in-process, and the image it describes
// is compared with what etc/, litestream.yml, the server and the system tests
// expect of it.
package dockerfile_test

import (
	"bytes"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/litepaste/litepaste/test/kit"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// repoRoot is the repository, seen from this directory.
const repoRoot = "../.."

// dockerfile is the parsed Dockerfile.
type dockerfile struct {
	raw      []byte
	ast      *parser.Result
	stages   []instructions.Stage
	metaArgs []instructions.ArgCommand
}

func mustParse(t *testing.T) *dockerfile {
	t.Helper()
	raw := mustRead(t, "Dockerfile")
	ast, err := parser.Parse(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("parse Dockerfile: %v", err)
	}
	stages, metaArgs, err := instructions.Parse(ast.AST, nil)
	if err != nil {
		t.Fatalf("parse Dockerfile instructions: %v", err)
	}
	if len(stages) == 0 {
		t.Fatal("Dockerfile has no stages")
	}
	return &dockerfile{raw: raw, ast: ast, stages: stages, metaArgs: metaArgs}
}

// final is the stage that becomes the image.
func (d *dockerfile) final() *instructions.Stage { return &d.stages[len(d.stages)-1] }

// metaArg is the default value of a global ARG (declared before the first FROM).
func (d *dockerfile) metaArg(name string) (string, bool) {
	for _, a := range d.metaArgs {
		for _, kv := range a.Args {
			if kv.Key == name && kv.Value != nil {
				return *kv.Value, true
			}
		}
	}
	return "", false
}

// commands returns the stage's instructions of type T, in order.
func commands[T instructions.Command](st *instructions.Stage) []T {
	var out []T
	for _, c := range st.Commands {
		if v, ok := c.(T); ok {
			out = append(out, v)
		}
	}
	return out
}

// env is the environment a stage sets with ENV (later values win).
func env(st *instructions.Stage) map[string]string {
	m := map[string]string{}
	for _, e := range commands[*instructions.EnvCommand](st) {
		for _, kv := range e.Env {
			m[kv.Key] = kv.Value
		}
	}
	return m
}

// runText joins the stage's RUN command lines.
func runText(st *instructions.Stage) string {
	var b strings.Builder
	for _, r := range commands[*instructions.RunCommand](st) {
		b.WriteString(strings.Join(r.CmdLine, " "))
		b.WriteString("\n")
	}
	return b.String()
}

func mustRead(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatalf("read %s: %v", rel, err)
	}
	return b
}

// buildContext lists the repository files that `docker build .` sends, after
// .dockerignore, as slash-separated paths relative to the repository root.
type buildContext struct {
	files map[string]bool // every regular file in the repository -> sent?
}

func mustContext(t *testing.T) *buildContext {
	t.Helper()
	patterns, err := ignorefile.ReadAll(bytes.NewReader(mustRead(t, ".dockerignore")))
	if err != nil {
		t.Fatalf("read .dockerignore: %v", err)
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		t.Fatalf(".dockerignore: %v", err)
	}
	bc := &buildContext{files: map[string]bool{}}
	err = filepath.WalkDir(repoRoot, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(repoRoot, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if e.IsDir() {
			if rel == ".git" {
				return filepath.SkipDir
			}
			return nil
		}
		ignored, err := pm.MatchesOrParentMatches(rel)
		if err != nil {
			return err
		}
		bc.files[rel] = !ignored
		return nil
	})
	if err != nil {
		t.Fatalf("walk the repository: %v", err)
	}
	return bc
}

// under lists the repository files at or below rel.
func (bc *buildContext) under(rel string) []string {
	rel = strings.TrimSuffix(path.Clean(rel), "/")
	var out []string
	for f := range bc.files {
		if f == rel || rel == "." || strings.HasPrefix(f, rel+"/") {
			out = append(out, f)
		}
	}
	slices.Sort(out)
	return out
}

// describeServer asks the built server (LITEPASTE_BIN, else bin/litepaste)
// for its routes, variables and flags.
func describeServer(t *testing.T) kit.Description {
	t.Helper()
	bin := os.Getenv("LITEPASTE_BIN")
	if bin == "" {
		bin = filepath.Join(repoRoot, "bin", "litepaste")
	}
	return kit.Describe(t, bin)
}

// script is an executable text file of etc/.
type script struct {
	rel   string   // path in the repository
	lines []string // without comment-only lines
	first string   // the shebang line
}

// etcScripts returns every file under etc/ that starts with "#!".
func etcScripts(t *testing.T, bc *buildContext) []script {
	t.Helper()
	var out []script
	for _, rel := range bc.under("etc") {
		b := mustRead(t, rel)
		if !bytes.HasPrefix(b, []byte("#!")) {
			continue
		}
		all := strings.Split(string(b), "\n")
		s := script{rel: rel, first: all[0]}
		for _, l := range all[1:] {
			if strings.HasPrefix(strings.TrimSpace(l), "#") {
				continue
			}
			s.lines = append(s.lines, l)
		}
		out = append(out, s)
	}
	return out
}

// varRef finds ${NAME...} and $NAME in shell scripts and litestream.yml.
var varRef = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)`)

// varDefault finds ${NAME:=value} and ${NAME:-value}.
var varDefault = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*):?[-=]([^}]*)\}`)
