package main

import (
	"bytes"
	"encoding/json"
	"io"
	"slices"
	"testing"
)

func TestDescribeListsRoutesVariablesAndFlags(t *testing.T) {
	cfg, err := parseConfig([]string{"-describe"}, envOf(nil), io.Discard)
	if err != nil || !cfg.describe {
		t.Fatalf("parse -describe: %v, describe=%v", err, cfg.describe)
	}
	var out bytes.Buffer
	if err := describe(&out, cfg); err != nil {
		t.Fatal(err)
	}
	var d description
	if err := json.Unmarshal(out.Bytes(), &d); err != nil {
		t.Fatalf("%v\n%s", err, out.Bytes())
	}
	for _, want := range []route{{"GET", "/healthz"}, {"GET", "/readyz"}, {"PUT", "/*"}, {"GET", "/:id"}} {
		if !slices.Contains(d.Routes, want) {
			t.Errorf("routes %v lack %v", d.Routes, want)
		}
	}
	for _, want := range []string{"PORT", "DB_PATH", "TRUSTED_PROXIES", envGOGC, envGOMEMLIMIT} {
		if !slices.Contains(d.Env, want) {
			t.Errorf("env %v lacks %s", d.Env, want)
		}
	}
	if !slices.Contains(d.Flags, "exec") || !slices.Contains(d.Flags, "port") {
		t.Errorf("flags %v lack exec or port", d.Flags)
	}
	var help bytes.Buffer
	_, _ = parseConfig([]string{"-h"}, envOf(nil), &help)
	if bytes.Contains(help.Bytes(), []byte(describeFlag)) {
		t.Errorf("-h shows -%s, which is for the repository's checks:\n%s", describeFlag, help.Bytes())
	}
}
