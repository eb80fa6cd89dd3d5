package deploytest_test

import (
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"testing"
)

// repoRoot is the checkout this module sits in (deploy/test → ../..).
func repoRoot(t *testing.T) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate the test source")
	}
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

func readFile(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), rel))
	if err != nil {
		t.Fatalf("read %s: %v", rel, err)
	}
	return b
}

// readmeSection is the text of the README section owned by deploy, without
// the other sections around it.
func readmeSection(t *testing.T, name string) string {
	t.Helper()
	readme := string(readFile(t, "README.md"))
	marker := regexp.MustCompile(`<!-- section: ` + regexp.QuoteMeta(name) + ` \([a-z]+\) -->`)
	loc := marker.FindStringIndex(readme)
	if loc == nil {
		t.Fatalf("README.md has no section %q", name)
	}
	rest := readme[loc[1]:]
	if next := strings.Index(rest, "<!-- section:"); next >= 0 {
		rest = rest[:next]
	}
	return rest
}

// set is a set of strings with a sorted listing for messages.
type set map[string]bool

func (s set) add(names ...string) {
	for _, n := range names {
		s[n] = true
	}
}

func (s set) sorted() []string {
	out := make([]string, 0, len(s))
	for n := range s {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// commandLine is the README line (with its continuations) that starts with prefix.
func commandLine(t *testing.T, text, prefix string) string {
	t.Helper()
	joined := regexp.MustCompile(`\\\n\s*`).ReplaceAllString(text, "")
	for _, line := range strings.Split(joined, "\n") {
		if l := strings.TrimSpace(line); strings.HasPrefix(l, prefix) {
			return l
		}
	}
	t.Errorf("README: no command starting with %q", prefix)
	return ""
}

// assignments are the NAME=value words of a command line.
func assignments(line string) set {
	out := set{}
	for _, m := range regexp.MustCompile(`(?:^|\s)([A-Z][A-Z0-9_]*)=`).FindAllStringSubmatch(line, -1) {
		out.add(m[1])
	}
	return out
}
