package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestExecHandsFlagsOnAsVariables(t *testing.T) {
	c := mustParse(t, []string{"-exec", "/init", "-title", "My Cool Log Pasting Service",
		"-showdocs=false", "-perminutelimit", "5", "-maxsize", "4"}, nil)
	want := []string{"MAX_SIZE_MB=4", "PER_MINUTE_LIMIT=5", "SITE_SHOW_DOCUMENTATION=false", "SITE_TITLE=My Cool Log Pasting Service",
		"FOLLOW_INTERVAL=" + defaultFollowInterval}
	if c.execPath != "/init" || !reflect.DeepEqual(c.flagEnv, want) {
		t.Errorf("got %q %q, want /init %q", c.execPath, c.flagEnv, want)
	}
	if c := mustParse(t, []string{"-title", "x"}, nil); c.flagEnv != nil {
		t.Errorf("without -exec: flagEnv %q, want none", c.flagEnv)
	}
}

// TestExecHandsOnTheFollowInterval: the container's follower gets the
// server's FOLLOW_INTERVAL, set or not, as a flag or a variable.
func TestExecHandsOnTheFollowInterval(t *testing.T) {
	for _, tc := range []struct {
		desc string
		args []string
		env  map[string]string
		want string
	}{
		{"unset", nil, nil, "FOLLOW_INTERVAL=" + defaultFollowInterval},
		{"variable", nil, map[string]string{"FOLLOW_INTERVAL": "5s"}, "FOLLOW_INTERVAL=5s"},
		{"flag", []string{"-followinterval", "2m"}, map[string]string{"FOLLOW_INTERVAL": "5s"}, "FOLLOW_INTERVAL=2m"},
	} {
		c, err := parseConfig(append([]string{"-exec", "/init"}, tc.args...), envOf(tc.env), &strings.Builder{})
		if err != nil {
			t.Fatalf("%s: %v", tc.desc, err)
		}
		n := 0
		for _, kv := range c.flagEnv {
			if strings.HasPrefix(kv, "FOLLOW_INTERVAL=") {
				n++
				if kv != tc.want {
					t.Errorf("%s: got %s, want %s", tc.desc, kv, tc.want)
				}
			}
		}
		if n != 1 {
			t.Errorf("%s: FOLLOW_INTERVAL handed on %d times in %q, want once", tc.desc, n, c.flagEnv)
		}
	}
}

func TestExecRefusesWhatItCannotHandOn(t *testing.T) {
	for _, args := range [][]string{
		{"-exec", "/init", "-migrate"},
		{"-exec", "/init", "-nosuchflag"},
		{"-exec", "/init", "-perminutelimit", "many"},
		{"-exec", "/init", "serve"},
	} {
		if _, err := parseConfig(args, envOf(nil), &strings.Builder{}); err == nil {
			t.Errorf("%q: got no error", args)
		}
	}
}

// TestExecReplacesTheProcess runs the test binary as litepaste -exec env: the
// program that replaces it sees each flag as its variable, winning over the
// variable's own value.
func TestExecReplacesTheProcess(t *testing.T) {
	if args := os.Getenv("LITEPASTE_TEST_EXEC_ARGS"); args != "" {
		var a []string
		if err := json.Unmarshal([]byte(args), &a); err != nil {
			panic(err)
		}
		fmt.Fprintln(os.Stderr, runArgs(context.Background(), a, os.Getenv, os.Stderr, nil))
		os.Exit(3)
	}
	env, err := exec.LookPath("env")
	if err != nil {
		t.Skip("no env program")
	}
	args, _ := json.Marshal([]string{"-exec", env, "-title", "My Cool Log Pasting Service", "-perminutelimit", "5"})
	cmd := exec.Command(os.Args[0], "-test.run=^TestExecReplacesTheProcess$")
	cmd.Env = append(os.Environ(), "LITEPASTE_TEST_EXEC_ARGS="+string(args), "PER_MINUTE_LIMIT=9", "SITE_FOOTER=kept")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	lines := strings.Split(string(out), "\n")
	for _, want := range []string{"SITE_TITLE=My Cool Log Pasting Service", "PER_MINUTE_LIMIT=5", "SITE_FOOTER=kept"} {
		name, _, _ := strings.Cut(want, "=")
		n := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, name+"=") })
		if n < 0 || lines[n] != want || slices.Contains(lines[n+1:], lines[n]) {
			t.Errorf("the program's environment has %s as %q, want %q once", name, lines[max(n, 0)], want)
		}
	}
}
