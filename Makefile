# litepaste: every developer command. `make test` is the one CI runs.
SHELL := /bin/bash
BIN := $(CURDIR)/bin
export GOFLAGS := -buildvcs=false

.PHONY: all build tools screenshots cost test test-unit test-fuzz test-browser test-system test-dockerfile test-deploy test-monitoring check bench demo run clean

all: check test

build: $(BIN)/litepaste

$(BIN)/litepaste: FORCE
	CGO_ENABLED=1 go build -o $@ ./app

# Pinned external tools, each built from its own module under tools/ (one version, one place).
tools: $(BIN)/litestream $(BIN)/litestream-v0.3 $(BIN)/versitygw $(BIN)/staticcheck

$(BIN)/litestream: tools/litestream/go.mod tools/litestream/go.sum
	cd tools/litestream && go build -o $@ github.com/benbjohnson/litestream/cmd/litestream

# The Litestream v0.3 that LogPaste's image ran: test/system writes a LogPaste
# bucket with it, which the image must restore and upgrade.
$(BIN)/litestream-v0.3: tools/litestream-v0.3/go.mod tools/litestream-v0.3/go.sum
	cd tools/litestream-v0.3 && go build -o $@ github.com/benbjohnson/litestream/cmd/litestream

$(BIN)/versitygw: tools/versitygw/go.mod tools/versitygw/go.sum
	cd tools/versitygw && go build -o $@ github.com/versity/versitygw/cmd/versitygw

$(BIN)/staticcheck: tools/staticcheck/go.mod tools/staticcheck/go.sum
	cd tools/staticcheck && go build -o $@ honnef.co/go/tools/cmd/staticcheck

run:
	go run ./app

test: check test-unit test-fuzz test-browser test-dockerfile test-deploy test-monitoring test-system

# The app's replica tests run the real follower against a real S3 server.
test-unit: $(BIN)/litestream $(BIN)/versitygw
	LITESTREAM_BIN=$(BIN)/litestream VERSITYGW_BIN=$(BIN)/versitygw go test -race -count=1 ./...
	cd bench && go test -count=1 ./...

# Each fuzz target runs briefly on top of its committed corpus (testdata/fuzz),
# for a number of executions (about ten seconds each here), not a duration: with
# a duration Go 1.26's fuzzing coordinator can report its own deadline as a
# failure (Go issue 75804, fixed in Go 1.27). FUZZSCALE multiplies every count.
FUZZSCALE ?= 1
fuzz = go test $(1) -run '^$$' -fuzz '^$(2)$$' -fuzztime $$(( $(3) * $(FUZZSCALE) ))x
test-fuzz:
	$(call fuzz,./app/paste,FuzzParseID,1000000)
	$(call fuzz,./app/paste,FuzzIDCodec,1000000)
	$(call fuzz,./app/web,FuzzUpload,6000)
	$(call fuzz,./app/web,FuzzAppendJSONString,150000)

test-browser: build
	cd test/browser && LITEPASTE_BIN=$(BIN)/litepaste go test -count=1 ./...

test-system: build $(BIN)/litestream $(BIN)/litestream-v0.3 $(BIN)/versitygw
	cd test/system && LITEPASTE_BIN=$(BIN)/litepaste LITESTREAM_BIN=$(BIN)/litestream LITESTREAM_V03_BIN=$(BIN)/litestream-v0.3 VERSITYGW_BIN=$(BIN)/versitygw go test -count=1 -timeout 30m -v ./...

# The Prometheus alert rules of deploy/monitoring: valid, and their unit tests pass. promtool
# is Debian's prometheus package; without it this is skipped, except in CI.
test-monitoring:
	@if ! command -v promtool >/dev/null; then \
	  if [ "$${CI:-}" = true ]; then echo "promtool not found (Debian: apt-get install prometheus)"; exit 1; fi; \
	  echo "SKIP test-monitoring: promtool not found (Debian: apt-get install prometheus)"; exit 0; fi; \
	cd deploy/monitoring && promtool check rules alerts.yml && promtool test rules alerts_test.yml

test-dockerfile: build
	cd test/dockerfile && LITEPASTE_BIN=$(BIN)/litepaste go test -count=1 ./...

test-deploy: build $(BIN)/litestream $(BIN)/versitygw
	cd deploy/test && LITEPASTE_BIN=$(BIN)/litepaste LITESTREAM_BIN=$(BIN)/litestream VERSITYGW_BIN=$(BIN)/versitygw go test -count=1 ./...

# Every Go module of the repository (the app and each test module with its own go.mod).
MODULES := . test/system test/browser test/dockerfile test/kit deploy/test bench

check: $(BIN)/staticcheck
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	@set -e; for m in $(MODULES); do echo "vet + staticcheck: $$m"; (cd $$m && go vet ./... && $(BIN)/staticcheck ./...); done
	shellcheck $$(git ls-files | xargs grep -lE '^#!.*(sh|bash)' 2>/dev/null | grep -v '\.go$$')

# Re-render docs/screenshot*.png from the real page in headless Chromium.
screenshots: build
	cd test/browser && LITEPASTE_BIN=$(BIN)/litepaste UPDATE_SCREENSHOTS=1 go test -count=1 -run Screenshots ./...

# The S3 request bill of the shipped litestream.yml: one scaled day of each load against
# versitygw, all at once (at COST_FACTOR 60: 24 minutes plus up to 9 of warm-up), priced at AWS S3 Standard.
COST_FACTOR ?= 60
cost: build $(BIN)/litestream $(BIN)/litestream-v0.3 $(BIN)/versitygw
	set -o pipefail; cd test/system && LITEPASTE_BIN=$(BIN)/litepaste LITESTREAM_BIN=$(BIN)/litestream LITESTREAM_V03_BIN=$(BIN)/litestream-v0.3 VERSITYGW_BIN=$(BIN)/versitygw \
	  LITEPASTE_COST_LOADS=all LITEPASTE_COST_FACTOR=$(COST_FACTOR) \
	  go test -count=1 -parallel 8 -run '^TestRequestCost$$' -timeout 3h -v . 2>&1 | grep -Ev '^=== (RUN|PAUSE|CONT)'

bench: build $(BIN)/litestream $(BIN)/versitygw
	bench/run.sh

demo: build $(BIN)/litestream $(BIN)/versitygw
	test/system/demo.sh

clean:
	rm -rf $(BIN)

FORCE:
