package main

import (
	"cmp"
	"encoding/json"
	"io"
	"slices"
	"time"

	"github.com/litepaste/litepaste/app/web"
)

// describeFlag asks for describe's output instead of a server.
const describeFlag = "describe"

// The collector's settings, read from the environment by tuneCollector.
const (
	envGOGC       = "GOGC"
	envGOMEMLIMIT = "GOMEMLIMIT"
)

// description is what the repository's checks of the image and the
// deployments compare against, taken from the built server rather than
// read from its source: the routes it answers, the environment variables
// and the flags it reads.
type description struct {
	Routes []route  `json:"routes"`
	Env    []string `json:"env"`
	Flags  []string `json:"flags"`
}

type route struct {
	Method string `json:"method"`
	Path   string `json:"path"`
}

// describe writes the description of the server cfg configures as JSON.
func describe(w io.Writer, cfg config) error {
	srv, err := web.New(web.Config{MaxSize: cfg.maxSizeMiB << 20, Expiry: cfg.expiry}, nil, time.Now, io.Discard, nil)
	if err != nil {
		return err
	}
	d := description{
		Env:   append(slices.Clone(cfg.envVars), envGOGC, envGOMEMLIMIT),
		Flags: slices.Clone(cfg.flagNames),
	}
	for _, r := range srv.Handler().Routes() {
		d.Routes = append(d.Routes, route{Method: r.Method, Path: r.Path})
	}
	slices.SortFunc(d.Routes, func(a, b route) int { return cmp.Or(cmp.Compare(a.Path, b.Path), cmp.Compare(a.Method, b.Method)) })
	slices.Sort(d.Env)
	slices.Sort(d.Flags)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(d)
}
