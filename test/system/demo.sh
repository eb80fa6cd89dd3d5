#!/usr/bin/env bash
# make demo: re-enacts "tear the server down, start it elsewhere on the same bucket, every paste is still there" with the real image tree, without Docker.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
bin=$repo/bin
harness=$here/harness.sh

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
die() { echo "demo: $*" >&2; exit 1; }
now_ms() { date +%s%3N; }
# free_port N: the first port from N on that nothing listens on
free_port() {
  local p=$1
  while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((p + 1)); done
  echo "$p"
}

[ "$(id -u)" = 0 ] || die "run as root: the harness uses mount and pid namespaces (sudo make demo)"
command -v s6-svscan >/dev/null || die "install s6 and execline: apt-get install s6 execline"
command -v curl >/dev/null || die "install curl"
for b in litepaste litestream versitygw; do
  [ -x "$bin/$b" ] || die "$bin/$b is missing: run make build tools"
done

work=$(mktemp -d /tmp/litepaste-demo.XXXXXX)
pids=() states=()
cleanup() {
  local s p
  for s in ${states[@]+"${states[@]}"}; do [ -s "$s/rc" ] || "$harness" kill "$s" >/dev/null 2>&1 || true; done
  for p in ${pids[@]+"${pids[@]}"}; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

say "An S3 bucket: versitygw on 127.0.0.1 over $work/s3"
s3port=$(free_port 17070)
mkdir -p "$work/s3/pastes"
"$bin/versitygw" --port "127.0.0.1:$s3port" --access demo-key --secret demo-secret-key --quiet \
  posix "$work/s3" > "$work/versitygw.log" 2>&1 &
pids+=($!)
until (exec 3<>"/dev/tcp/127.0.0.1/$s3port") 2>/dev/null; do sleep 0.05; done
echo "listening on 127.0.0.1:$s3port, bucket 'pastes'"

say "The image: etc/ and litestream.yml of this repository, the server and litestream in /usr/local/bin"
img=$work/image
mkdir -p "$img/etc" "$img/usr/local/bin" "$img/data"
cp -a "$repo/etc/." "$img/etc/"
cp "$repo/litestream.yml" "$img/etc/litestream.yml"
cp "$bin/litepaste" "$bin/litestream" "$img/usr/local/bin/"
chown 10001:10001 "$img/data"
find "$img/etc" -type f | sed "s|$img||" | sort

port=$(free_port 3001)
env=(-u 10001:10001 -e DB_PATH=/data/litepaste.db -e "PORT=$port"
     -e S6_BEHAVIOUR_IF_STAGE2_FAILS=2 -e S6_SERVICES_GRACETIME=4000 -e S6_KILL_GRACETIME=500
     -e "DB_REPLICA_URL=s3://pastes/litepaste?endpoint=http://127.0.0.1:$s3port&region=us-east-1"
     -e LITESTREAM_ACCESS_KEY_ID=demo-key -e LITESTREAM_SECRET_ACCESS_KEY=demo-secret-key)

# start NAME DATADIR: runs the image like `docker run -v DATADIR:/data`, waits until it serves
start() {
  local st=$work/$1 t0
  mkdir -p "$2"; chown 10001:10001 "$2"
  t0=$(now_ms)
  "$harness" run -d --state "$st" -v "$2:/data" "${env[@]}" "$img" > /dev/null
  states+=("$st")
  until curl -fsS -o /dev/null "http://127.0.0.1:$port/readyz" 2>/dev/null; do
    [ ! -s "$st/rc" ] || { cat "$st/console.log"; die "container $1 exited"; }
    sleep 0.02
  done
  echo "container $1 serves on http://127.0.0.1:$port ($(( $(now_ms) - t0 )) ms after start)"
  echo "--- its log so far:"; sed 's/^/    /' "$st/console.log"
}

say "Host A: first start on an empty bucket"
start host-a "$work/host-a-data"

say "Upload a paste"
printf 'demo paste written at %s\nline two\n' "$(date -u +%FT%TZ)" > "$work/paste.txt"
echo "\$ curl -X PUT --data-binary @paste.txt http://127.0.0.1:$port/"
answer=$(curl -fsS -X PUT --data-binary @"$work/paste.txt" "http://127.0.0.1:$port/")
echo "$answer"
id=$(printf '%s' "$answer" | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')
[ -n "$id" ] || die "no id in the answer"

say "Wait until litestream has put it in the bucket"
t0=$(now_ms)
until grep -rqF "demo paste written" "$work/s3/pastes" 2>/dev/null; do sleep 0.05; done
echo "in the bucket $(( $(now_ms) - t0 )) ms later:"
(cd "$work/s3/pastes" && find . -type f | sort | sed 's/^/    /')

say "docker stop host-a (SIGTERM to pid 1: the server stops first, then litestream's final sync)"
t0=$(now_ms)
echo "exit code $("$harness" stop "$work/host-a" 10), $(( $(now_ms) - t0 )) ms"

say "Destroy host A: its whole data directory is deleted"
rm -rf "$work/host-a-data"
echo "rm -rf host-a-data: the only local copy is gone"

say "Host B: a new container, an empty volume, the same bucket"
start host-b "$work/host-b-data"

say "The same paste, from host B"
echo "\$ curl http://127.0.0.1:$port/$id"
curl -fsS "http://127.0.0.1:$port/$id" | tee "$work/again.txt"
if cmp -s "$work/paste.txt" "$work/again.txt"; then
  echo "byte for byte the paste uploaded to host A"
else
  die "the paste differs"
fi

"$harness" stop "$work/host-b" 10 > /dev/null
say "Done"
