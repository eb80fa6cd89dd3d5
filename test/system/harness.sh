#!/usr/bin/env bash
# Runs litepaste's image tree (s6-overlay v3 layout) under Debian's s6 in a private namespace, since no Docker engine is available.
#
# Model (mirrors s6-overlay v3 3.2.x closely enough for the system tests):
#   image     = host root (read-only lower layer) + the ROOTFS layer + -L layers
#               + a shim layer with /command/{with-contenv,printcontenv,s6-*,execlineb}
#               (overlayfs; writes go to a tmpfs upper layer and vanish at exit)
#   container = new mount + pid namespace (unshare), chroot into the overlay,
#               fresh /proc, tmpfs /run and /tmp, bind volumes (-v); the network
#               namespace is the host's, so 127.0.0.1 reaches host servers.
#   pid 1     = s6-svscan on /run/service with PATH only; the container
#               environment is dumped to /run/s6/container_environment.
#   stage 2   = /etc/cont-init.d/* one by one in C order (all of them; then
#               S6_BEHAVIOUR_IF_STAGE2_FAILS decides); the longruns and oneshots
#               of the s6-rc "user" bundle in dependency order; then every
#               /etc/services.d/* at once; then CMD, if given.
#   stage 3   = on SIGTERM to pid 1 (docker stop) or /run/s6/basedir/bin/halt:
#               SIGTERM every services.d service at once, wait up to
#               S6_SERVICES_GRACETIME, stop the s6-rc services in reverse order,
#               /etc/cont-finish.d/*, TERM everything left, wait up to
#               S6_KILL_GRACETIME (the whole of it with HARNESS_EXACT_GRACE=1, as
#               s6-overlay does), KILL, exit with the container exit code file.
#   -u UID:GID = Dockerfile USER: /run is handed to it (as s6-overlay's preinit
#               does) and the whole supervision tree, and exec, run as it.
#
# Needs root, overlayfs, util-linux (unshare, nsenter, setpriv) and the Debian
# packages s6 and execline. Nothing outside the state directory is changed.
#
# Usage:
#   harness.sh run [-d] [opts] ROOTFS [CMD...]  foreground (exit code = container's)
#                                              or -d: detached, prints the state dir
#       opts: -e VAR=VAL  --env-file FILE  -v HOSTDIR:CTRDIR  -L LAYER  -w WORKDIR
#             -u UID[:GID]  --state DIR  --entrypoint WORD (repeat for each word
#             of the image's ENTRYPOINT; default /init)
#       As with docker run, the container's pid 1 runs ENTRYPOINT followed by
#       CMD; /init is the harness's init, and gets CMD when it is run with it.
#       The entrypoint runs as root here (docker runs it as USER); /init then
#       drops to -u as s6-overlay does.
#   harness.sh exec STATE CMD...      run CMD inside the container as its user (docker exec)
#   harness.sh svc  STATE             s6-svstat of every supervised service
#   harness.sh stop STATE [SECONDS]   SIGTERM pid 1, SIGKILL after SECONDS (10)
#   harness.sh kill STATE             SIGKILL pid 1 (the whole container dies)
#   harness.sh wait STATE             wait for the container to exit, print its code
set -euo pipefail

HARNESS_PATH_DEFAULT=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

die() { echo "harness: $*" >&2; exit 1; }
now_ms() { date +%s%3N; }

# The shim layer: our own minimal versions of the s6-overlay entry points that
# the image's scripts use, plus the init stages. Generated into the state dir.
write_shim() {
  local s=$1 f
  mkdir -p "$s/command" "$s/package/harness"

  # /command holds the s6 and execline programs, as in s6-overlay.
  for f in /usr/bin/s6-* /usr/bin/s6lockd /usr/bin/execlineb /usr/lib/execline/bin/*; do
    [ -e "$f" ] || continue
    case ${f##*/} in execlineb) [ "$f" = /usr/bin/execlineb ] || continue ;; esac
    ln -sf "$f" "$s/command/${f##*/}"
  done

  # with-contenv: unless S6_KEEP_ENV is set, replace the environment (keeping
  # PATH) by the container environment, then exec the rest of argv.
  cat > "$s/command/with-contenv" <<'EOF'
#!/bin/sh
case "${S6_KEEP_ENV:-0}" in ''|0|00|000) ;; *) exec "$@" ;; esac
exec /usr/bin/env -i PATH="$PATH" /usr/bin/s6-envdir -Lf /run/s6/container_environment "$@"
EOF

  # printcontenv VAR: print one variable of the container environment.
  cat > "$s/command/printcontenv" <<'EOF'
#!/bin/sh
[ $# -ge 1 ] || { echo 'printcontenv: fatal: too few arguments' >&2; exit 100; }
case "${S6_KEEP_ENV:-0}" in ''|0) ;; *) eval "v=\${$1-}"; [ -n "$v" ] || exit 1; printf '%s\n' "$v"; exit 0 ;; esac
[ -f "/run/s6/container_environment/$1" ] || exit 1
cat "/run/s6/container_environment/$1" 2>/dev/null
EOF

  # enter: pid 1 of the new namespaces, still on the host root; assembles the
  # container's root filesystem and chroots into it.
  cat > "$s/package/harness/enter" <<'EOF'
#!/bin/sh
set -eu
STATE=$1; shift
/usr/bin/cut -d' ' -f4 /proc/self/stat > "$STATE/pid"
M="$STATE/mnt"
/usr/bin/mkdir -p "$M"
/usr/bin/mount -t tmpfs -o mode=0755 harness "$M"
/usr/bin/mkdir -p "$M/upper" "$M/work" "$M/root" "$M/layers"
# overlayfs refuses a lower layer that lives inside another lower layer (the
# host root), so each layer is copied into the tmpfs first.
lower=/ i=0
while IFS= read -r layer; do
  i=$((i + 1)); /usr/bin/mkdir "$M/layers/$i"
  /usr/bin/cp -a "$layer/." "$M/layers/$i/"
  lower="$M/layers/$i:$lower"
done < "$STATE/layers"
/usr/bin/mount -t overlay harness-root -o "lowerdir=$lower,upperdir=$M/upper,workdir=$M/work" "$M/root"
R="$M/root"
/usr/bin/mount --rbind /dev "$R/dev"
/usr/bin/mount --rbind /sys "$R/sys"
/usr/bin/mount -t proc proc "$R/proc"
/usr/bin/mount -t tmpfs -o mode=0755,nosuid,nodev harness-run "$R/run"
/usr/bin/mount -t tmpfs -o mode=1777,nosuid,nodev harness-tmp "$R/tmp"
while IFS= read -r vol; do
  [ -n "$vol" ] || continue
  src=${vol%%:*} dst=${vol#*:}
  /usr/bin/mkdir -p "$R$dst"
  /usr/bin/mount --bind "$src" "$R$dst"
done < "$STATE/volumes"
exec /usr/sbin/chroot "$R" "$@"
EOF

  # /init: what an image's ENTRYPOINT runs (or execs) to start s6-overlay.
  cat > "$s/init" <<'EOF'
#!/bin/sh
exec /package/harness/init "$(cat /package/harness/workdir)" "$(cat /package/harness/user)" "$@"
EOF

  # init: pid 1 inside the container, in place of s6-overlay's /init.
  cat > "$s/package/harness/init" <<'EOF'
#!/bin/sh
set -eu
wd=$1 user=$2; shift 2
addpath() { case ":$PATH:" in *":$1:"*) ;; *) PATH="$1:$PATH" ;; esac; }
PATH=${PATH:-/bin}; addpath /bin; addpath /usr/bin; addpath /command; export PATH
umask 022
mkdir -p /run/s6/basedir/bin /run/service/.s6-svscan /run/s6-linux-init-container-results
echo 0 > /run/s6-linux-init-container-results/exitcode
printf '%s\n' "$wd" > /run/s6/workdir
case "${S6_KEEP_ENV:-0}" in ''|0) keep=0 ;; *) keep=1 ;; esac
if [ "$keep" = 0 ]; then
  mkdir -p /run/s6/container_environment
  awk 'BEGIN { for (k in ENVIRON) if (k ~ /^[A-Za-z_][A-Za-z0-9_]*$/) {
      f = "/run/s6/container_environment/" k; printf "%s\n", ENVIRON[k] > f; close(f) } }'
fi
for b in halt poweroff reboot shutdown; do
  printf '#!/bin/sh\nexec kill -TERM 1\n' > /run/s6/basedir/bin/$b
  chmod 0755 /run/s6/basedir/bin/$b
done
for sig in SIGTERM SIGINT; do
  printf '#!/bin/sh\nexec /package/harness/stage3\n' > /run/service/.s6-svscan/$sig
  chmod 0755 /run/service/.s6-svscan/$sig
done
printf '#!/bin/sh\nexec /package/harness/final\n' > /run/service/.s6-svscan/finish
chmod 0755 /run/service/.s6-svscan/finish
# USER: like s6-overlay's preinit, hand /run, /run/s6 and the scandir to the user,
# then run the whole supervision tree as that user.
drop=
if [ -n "$user" ]; then
  uid=${user%%:*} gid=${user#*:}; [ "$gid" != "$user" ] || gid=$uid
  chown "$uid:$gid" /run
  chown -R "$uid:$gid" /run/s6 /run/service /run/s6-linux-init-container-results
  drop="setpriv --reuid=$uid --regid=$gid --clear-groups"
fi
cd /run/service
if [ "$keep" = 0 ]; then
  $drop env -i PATH="$PATH" /package/harness/stage2 "$@" &
  exec $drop env -i PATH="$PATH" s6-svscan /run/service
fi
$drop /package/harness/stage2 "$@" &
exec $drop s6-svscan /run/service
EOF

  # stage2: s6-overlay's rc.init with its legacy-cont-init, user bundle and
  # legacy-services steps.
  cat > "$s/package/harness/stage2" <<'EOF'
#!/bin/sh
p=harness-stage2
num() { v=$(printcontenv "$1" 2>/dev/null) || v=; case "$v" in ''|*[!0-9]*) echo "$2" ;; *) echo "$v" ;; esac; }
haltwith() { echo "$1" > /run/s6-linux-init-container-results/exitcode; exec /run/s6/basedir/bin/halt; }
v=$(num S6_VERBOSITY 2); b=$(num S6_BEHAVIOUR_IF_STAGE2_FAILS 0)
info() { [ "$v" -ge 2 ] && echo "$p: info: $*" >&2; return 0; }
warn() { [ "$v" -ge 1 ] && echo "$p: warning: $*" >&2; return 0; }

i=0; until s6-svscanctl -z /run/service 2>/dev/null; do
  i=$((i + 1)); [ $i -lt 1000 ] || { echo "$p: fatal: s6-svscan did not start" >&2; exit 111; }
  sleep 0.005
done

# cont-init.d: every script runs, even after a failure; the verdict comes after.
failed=false
for f in $(ls -1 /etc/cont-init.d 2>/dev/null | LC_ALL=C sort); do
  info "running /etc/cont-init.d/$f"
  t0=$(date +%s%3N)
  "/etc/cont-init.d/$f"; r=$?
  info "/etc/cont-init.d/$f exited $r after $(( $(date +%s%3N) - t0 )) ms"
  [ $r -eq 0 ] || failed=true
done
if $failed && [ "$b" -ne 0 ]; then
  warn "some cont-init.d scripts exited nonzero"
  [ "$b" -ge 2 ] && { echo "$p: fatal: stopping the container." >&2; haltwith 1; }
fi

# The s6-rc "user" bundle (Debian has no s6-rc): its longruns and oneshots
# start one at a time in dependency order (dependencies outside the bundle,
# such as "base", are already met at this point). Longruns are waited for (up,
# or ready when they have notification-fd). Not emulated: user2, nested
# bundles, pipelines, timeout-up/down.
rcsrc=/etc/s6-overlay/s6-rc.d
ub=/etc/s6-overlay/user-bundles.d/user/contents.d
[ -d "$rcsrc/user/contents.d" ] && ub="$rcsrc/user/contents.d"
todo=$(ls -1 "$ub" 2>/dev/null | LC_ALL=C sort | grep -v '^\.') || true
mkdir -p /run/s6/rc-services; : > /run/s6/rc-order
rcfail=false
while [ -n "$todo" ]; do
  progress=false rest=
  for sv in $todo; do
    ready=true
    for d in $(ls -1 "$rcsrc/$sv/dependencies.d" 2>/dev/null); do
      case " $(echo $todo) " in *" $d "*) ready=false ;; esac
    done
    if ! $ready; then rest="$rest $sv"; continue; fi
    progress=true
    t=$(cat "$rcsrc/$sv/type" 2>/dev/null)
    case $t in
    longrun)
      info "starting s6-rc longrun $sv"
      # like s6-rc: supervised with a down file, then started by a command we
      # listen to, so that a service that exits at once is not missed
      cp -a "$rcsrc/$sv" "/run/s6/rc-services/$sv"; rm -rf "/run/s6/rc-services/$sv/dependencies.d"
      : > "/run/s6/rc-services/$sv/down"
      ln -sfn "/run/s6/rc-services/$sv" "/run/service/$sv"; s6-svscanctl -a /run/service
      i=0; until s6-svok "/run/service/$sv" 2>/dev/null; do i=$((i + 1)); [ $i -lt 1000 ] || break; sleep 0.005; done
      ev=-u; [ -r "$rcsrc/$sv/notification-fd" ] && ev=-U
      s6-svlisten1 "$ev" "/run/service/$sv" s6-svc -u "/run/service/$sv" || rcfail=true ;;
    oneshot)
      info "starting s6-rc oneshot $sv"
      execlineb -Pc "$(cat "$rcsrc/$sv/up")" || { rcfail=true; warn "oneshot $sv failed"; } ;;
    *) warn "$sv: type '$t' not emulated"; continue ;;
    esac
    echo "$t $sv" >> /run/s6/rc-order
  done
  todo=$rest
  $progress || { warn "dependency cycle or unknown dependency among:$todo"; rcfail=true; break; }
done
if $rcfail && [ "$b" -ne 0 ]; then
  warn "some s6-rc user services failed"; [ "$b" -ge 2 ] && haltwith 1
fi

# services.d: copied, linked, one rescan: they all start at the same time.
dir=/run/s6/legacy-services
rm -rf "$dir"; mkdir -p "$dir"
list=
for sv in $(ls -1 /etc/services.d 2>/dev/null | LC_ALL=C sort); do
  [ -d "/etc/services.d/$sv" ] || continue
  cp -a "/etc/services.d/$sv" "$dir/$sv"
  list="$list $sv"
  info "starting legacy longrun $sv"
done
for sv in $list; do ln -sfn "$dir/$sv" "/run/service/$sv"; done
s6-svscanctl -a /run/service
info "stage 2 done:$list"
: > /run/s6/stage2.done

if [ $# -gt 0 ]; then
  cd "$(cat /run/s6/workdir)" || cd /
  "$@"; r=$?
  haltwith $r
fi
EOF

  # stage3: s6-svscan's SIGTERM handler (docker stop, halt).
  cat > "$s/package/harness/stage3" <<'EOF'
#!/bin/sh
mkdir /run/s6/stage3.lock 2>/dev/null || exit 0
num() { v=$(printcontenv "$1" 2>/dev/null) || v=; case "$v" in ''|*[!0-9]*) echo "$2" ;; *) echo "$v" ;; esac; }
v=$(num S6_VERBOSITY 2)
info() { [ "$v" -ge 2 ] && echo "harness-stage3: info: $*" >&2; return 0; }
dir=/run/s6/legacy-services
links= list=
for sv in $(ls -1 "$dir" 2>/dev/null); do
  links="$links /run/service/$sv"; list="$list $dir/$sv"
  [ -d "$dir/$sv/log" ] && list="$list $dir/$sv/log"
done
if [ -n "$list" ]; then
  info "stopping legacy services:$links"
  rm -f $links
  s6-svscanctl -an /run/service
  s6-svwait -D -t "$(num S6_SERVICES_GRACETIME 3000)" $list || info "some services did not stop within S6_SERVICES_GRACETIME"
fi
if [ -s /run/s6/rc-order ]; then
  sed '1!G;h;$!d' /run/s6/rc-order | while read -r t sv; do
    info "stopping s6-rc $t $sv"
    case $t in
    longrun) s6-svc -d "/run/service/$sv"; s6-svwait -D "/run/service/$sv" ;;
    oneshot) [ -s "/etc/s6-overlay/s6-rc.d/$sv/down" ] && execlineb -Pc "$(cat "/etc/s6-overlay/s6-rc.d/$sv/down")" ;;
    esac
  done
fi
k=$(num S6_KILL_FINISH_MAXTIME 5000)
for f in $(ls -1 /etc/cont-finish.d 2>/dev/null | LC_ALL=C sort); do
  info "running /etc/cont-finish.d/$f"
  timeout -s KILL "$(awk -v m="$k" 'BEGIN{printf "%.3f", m/1000}')" "/etc/cont-finish.d/$f"
done
info "stopping s6-svscan"
exec s6-svscanctl -t /run/service
EOF

  # final: .s6-svscan/finish, pid 1 once s6-svscan is done.
  cat > "$s/package/harness/final" <<'EOF'
#!/bin/sh
num() { v=$(printcontenv "$1" 2>/dev/null) || v=; case "$v" in ''|*[!0-9]*) echo "$2" ;; *) echo "$v" ;; esac; }
g=$(num S6_KILL_GRACETIME 3000)
others() {
  for d in /proc/[0-9]*; do
    p=${d#/proc/}; [ "$p" = 1 ] && continue
    read -r l < "$d/stat" 2>/dev/null || continue
    st=${l##*) }; st=${st%% *}; [ "$st" = Z ] && continue
    return 0
  done
  return 1
}
kill -TERM -1 2>/dev/null; kill -CONT -1 2>/dev/null
if [ "$(printcontenv HARNESS_EXACT_GRACE 2>/dev/null)" = 1 ]; then
  sleep "$(awk -v m="$g" 'BEGIN{printf "%.3f", m/1000}')"
else
  t=0; while [ $t -lt "$g" ] && others; do sleep 0.01; t=$((t + 10)); done
fi
kill -KILL -1 2>/dev/null
read -r code < /run/s6-linux-init-container-results/exitcode 2>/dev/null || code=0
case "$code" in ''|*[!0-9]*) code=0 ;; esac
exit "$code"
EOF
  chmod 0755 "$s/init" "$s/command/with-contenv" "$s/command/printcontenv" "$s"/package/harness/*
}

cmd_run() {
  local detach=0 state="" workdir=/ envs=() layers=() vols=() user="" entry=()
  while [ $# -gt 0 ]; do
    case $1 in
      -d) detach=1 ;;
      -u) user=$2; shift ;;
      -e) envs+=("$2"); shift ;;
      --env-file) while IFS= read -r l; do case $l in ''|'#'*) ;; *) envs+=("$l") ;; esac; done < "$2"; shift ;;
      -v) vols+=("$2"); shift ;;
      -L) layers+=("$(readlink -f "$2")"); shift ;;
      -w) workdir=$2; shift ;;
      --state) state=$2; shift ;;
      --entrypoint) entry+=("$2"); shift ;;
      --) shift; break ;;
      -*) die "unknown option $1" ;;
      *) break ;;
    esac
    shift
  done
  [ $# -ge 1 ] || die "usage: harness.sh run [opts] ROOTFS [CMD...]"
  [ "$(id -u)" = 0 ] || die "must run as root (mount and pid namespaces, overlayfs)"
  command -v s6-svscan >/dev/null || die "s6 is missing: apt-get install s6 execline"
  command -v execlineb >/dev/null || die "execline is missing: apt-get install s6 execline"
  local rootfs; rootfs=$(readlink -f "$1"); shift
  [ -d "$rootfs" ] || die "no such rootfs dir: $rootfs"
  [ -n "$state" ] || state=$(mktemp -d /tmp/litepaste-harness.XXXXXX)
  mkdir -p "$state"; state=$(readlink -f "$state")
  rm -f "$state/rc" "$state/pid"
  write_shim "$state/shim"
  { printf '%s\n' "$rootfs"; [ ${#layers[@]} -eq 0 ] || printf '%s\n' "${layers[@]}"
    printf '%s\n' "$state/shim"; } > "$state/layers"
  : > "$state/volumes"
  local vv; for vv in ${vols[@]+"${vols[@]}"}; do
    [ -d "${vv%%:*}" ] || die "volume source ${vv%%:*} is not a directory"
    printf '%s:%s\n' "$(readlink -f "${vv%%:*}")" "${vv#*:}" >> "$state/volumes"; done
  printf '%s\n' "$workdir" > "$state/workdir"
  printf '%s\n' "$user" > "$state/user"
  cp "$state/workdir" "$state/user" "$state/shim/package/harness/"
  [ ${#entry[@]} -gt 0 ] || entry=(/init)
  local cenv=(PATH="$HARNESS_PATH_DEFAULT" HOSTNAME=harness HOME=/root ${envs[@]+"${envs[@]}"})
  local launch=(env -i "${cenv[@]}" unshare --mount --pid --fork --propagation private --
                /bin/sh "$state/shim/package/harness/enter" "$state" "${entry[@]}" "$@")
  if [ $detach = 1 ]; then
    ( set +e; setsid -w "${launch[@]}" > "$state/console.log" 2>&1 < /dev/null; echo $? > "$state/rc" ) > /dev/null 2>&1 &
    # started = pid 1 has chrooted into the overlay and become s6-svscan
    local i=0 pid=""
    while [ $i -lt 1000 ]; do
      [ -s "$state/rc" ] && die "container exited early (rc $(cat "$state/rc")), see $state/console.log"
      if [ -s "$state/pid" ]; then
        pid=$(cat "$state/pid")
        [ "$(readlink "/proc/$pid/root" 2>/dev/null)" = "$state/mnt/root" ] &&
          [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = s6-svscan ] && break
      fi
      sleep 0.01; i=$((i + 1))
    done
    [ $i -lt 1000 ] || die "container did not start, see $state/console.log"
    echo "$state"
  else
    set +e; "${launch[@]}"; local r=$?; set -e
    echo $r > "$state/rc"; return $r
  fi
}

pid_of() { [ -s "$1/pid" ] || die "no pid in $1"; cat "$1/pid"; }

cmd_exec() {
  local state=$1; shift
  # as docker exec: the image's USER (s6's event fifos belong to it)
  local user drop=()
  user=$(cat "$state/user")
  if [ -n "$user" ]; then
    local uid=${user%%:*} gid=${user#*:}; [ "$gid" != "$user" ] || gid=$uid
    drop=(setpriv --reuid="$uid" --regid="$gid" --clear-groups)
  fi
  # -w enters pid 1's cwd; env -C / then starts at the container's root.
  nsenter -t "$(pid_of "$state")" -m -p -r -w -- ${drop[@]+"${drop[@]}"} \
    /usr/bin/env -i -C / PATH="/command:$HARNESS_PATH_DEFAULT" "$@"
}

cmd_svc() {
  # shellcheck disable=SC2016 # expanded by the shell inside the container
  cmd_exec "$1" sh -c 'for s in /run/service/*; do [ -d "$s" ] || continue; printf "%-10s %s\n" "${s##*/}" "$(s6-svstat "$s")"; done'
}

cmd_wait() {
  local state=$1
  while [ ! -s "$state/rc" ]; do sleep 0.02; done
  cat "$state/rc"
}

cmd_stop() {
  local state=$1 t=${2:-10}
  local pid; pid=$(pid_of "$state")
  kill -TERM "$pid" 2>/dev/null || true
  local end=$(( $(now_ms) + t * 1000 ))
  while [ ! -s "$state/rc" ] && [ "$(now_ms)" -lt "$end" ]; do sleep 0.02; done
  if [ ! -s "$state/rc" ]; then
    echo "harness: stop timeout ${t}s, sending SIGKILL to pid 1 (host pid $pid)" >&2
    kill -KILL "$pid" 2>/dev/null || true
    cmd_wait "$state" > /dev/null
  fi
  cat "$state/rc"
}

cmd_kill() {
  local state=$1
  kill -KILL "$(pid_of "$state")" 2>/dev/null || true
  cmd_wait "$state"
}

main() {
  local c=${1:-}; shift || true
  case $c in
    run) cmd_run "$@" ;;
    exec) cmd_exec "$@" ;;
    svc) cmd_svc "$@" ;;
    stop) cmd_stop "$@" ;;
    kill) cmd_kill "$@" ;;
    wait) cmd_wait "$@" ;;
    *) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 2 ;;
  esac
}
main "$@"
