package main

import (
	"bytes"
	"cmp"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestREADMEListsEverySetting: the README's Configuration table has a row for
// every flag and environment variable the server reads, each flag beside its
// variable, and every fixed default spelt as the server has it.
func TestREADMEListsEverySetting(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := configRows(t, string(readme))

	var help bytes.Buffer
	_, _ = parseConfig([]string{"-h"}, envOf(nil), &help)
	line := regexp.MustCompile(`^  -(\w+)(?: \(env (\w+), default "(.*)"\))?$`)
	flags := 0
	for _, l := range strings.Split(help.String(), "\n") {
		m := line.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		flags++
		name, env, def := m[1], m[2], m[3]
		row, ok := rows["`-"+name+"`"]
		if !ok {
			t.Errorf("README's Configuration table has no row for -%s", name)
			continue
		}
		if want := "`" + env + "`"; env == "" && row.env != "none" || env != "" && row.env != want {
			t.Errorf("README: -%s: environment %q, want %q", name, row.env, cmp.Or(env, "none"))
		}
		// An empty default is often worked out at start (ADMIN_SOCKET beside
		// DB_PATH): the row says how in words.
		if def != "" && !strings.Contains(row.def, "`"+def+"`") {
			t.Errorf("README: -%s: default %q, want `%s`", name, row.def, def)
		}
	}
	if flags < 20 {
		t.Fatalf("read %d flags from -h; its format changed?\n%s", flags, help.String())
	}

	cfg, err := parseConfig([]string{"-describe"}, envOf(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	envs := map[string]bool{}
	for _, r := range rows {
		envs[r.env] = true
	}
	for _, env := range append(cfg.envVars, envGOGC, envGOMEMLIMIT) {
		if !envs["`"+env+"`"] {
			t.Errorf("README's Configuration table has no row for %s", env)
		}
	}
}

type configRow struct{ env, def string }

// configRows reads the table of the README's Configuration section by its
// first cell: "`-port`", or "none" for a variable without a flag (then by
// the variable).
func configRows(t *testing.T, readme string) map[string]configRow {
	t.Helper()
	_, section, ok := strings.Cut(readme, "\n## Configuration\n")
	if !ok {
		t.Fatal("README.md has no Configuration section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	rows := map[string]configRow{}
	for _, l := range strings.Split(section, "\n") {
		cells := strings.Split(l, " | ")
		if len(cells) < 4 || !strings.HasPrefix(l, "| ") {
			continue
		}
		key := strings.TrimPrefix(cells[0], "| ")
		if key == "none" {
			key = cells[1]
		}
		rows[key] = configRow{env: cells[1], def: cells[2]}
	}
	if len(rows) == 0 {
		t.Fatal("README's Configuration section has no table")
	}
	return rows
}
