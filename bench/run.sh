#!/usr/bin/env bash
# Entry point of `make bench`: builds the benchmark driver (its own module) and runs it on bin/.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$here" && GOFLAGS=-buildvcs=false go build -o "$tmp/bench" .)
LITEPASTE_BIN=${LITEPASTE_BIN:-$root/bin/litepaste} \
	LITESTREAM_BIN=${LITESTREAM_BIN:-$root/bin/litestream} \
	VERSITYGW_BIN=${VERSITYGW_BIN:-$root/bin/versitygw} \
	"$tmp/bench" -putscript "$here/put.lua" \
	-rev "$(git -C "$root" describe --always --dirty 2>/dev/null || echo unknown)" "$@"
