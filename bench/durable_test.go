package main

import (
	"os"
	"strings"
	"testing"
)

// The durable ceiling must use the SQLite driver at the version litepaste is built with;
// the app's go.mod is where that version is chosen.
func TestDurableCeilingUsesTheAppsSQLiteDriver(t *testing.T) {
	const mod = "github.com/mattn/go-sqlite3"
	got, want := requiredVersion(t, "go.mod", mod), requiredVersion(t, "../go.mod", mod)
	if got != want {
		t.Errorf("bench/go.mod requires %s %s, the app's go.mod %s: run `go get %s@%s` in bench/", mod, got, want, mod, want)
	}
}

func requiredVersion(t *testing.T, path, module string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(line), "require "))
		if len(f) >= 2 && f[0] == module {
			return f[1]
		}
	}
	t.Fatalf("%s does not require %s", path, module)
	return ""
}
