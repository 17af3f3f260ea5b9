#!/usr/bin/env bash
# The container smoke test: builds the Dockerfile's images with podman on a Debian base made here
# by debootstrap, starts docker-compose.yml with podman-compose, and checks through real sockets
# that Pier proxies to the demo backends, caches through Redis, answers its health check, and
# exits promptly on SIGTERM as PID 1. Everything it makes (containers, network, images, storage)
# lives under one private directory and is removed on exit; its logs (debootstrap, build, up, the
# stack's) are kept in build/test-artifacts/container/.
#
# PIER_CONTAINER_KEEP=1 leaves the stack and storage in place for debugging.
# Exit codes: 0 passed, 1 failed, 77 skipped (apt has no podman here, not root, or
# PIER_SKIP_CONTAINER=1). Registered with ctest as `container_smoke` (RUN_SERIAL: it uses both
# cores for a few minutes). It stops itself after 9 minutes, cleaning up, under ctest's 10.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)
if [ -z "${PIER_SMOKE_DEADLINE:-}" ]; then
  # timeout sends SIGTERM to the whole run; the trap below then fails and cleans up.
  PIER_SMOKE_DEADLINE=540 exec timeout --signal=TERM 540 "$0" "$@"
fi

SKIP=77
say() { echo "[container] $*"; }
fail() {
  say "FAILED: $*"
  exit 1
}

if [ "${PIER_SKIP_CONTAINER:-0}" = 1 ]; then
  say "SKIPPED: PIER_SKIP_CONTAINER=1"
  exit $SKIP
fi
if [ "$(id -u)" -ne 0 ]; then
  say "SKIPPED: needs root (rootful podman with its own storage and networks)"
  exit $SKIP
fi
policy=$(apt-cache policy podman 2>/dev/null || true)
if [ -z "$policy" ] || [[ $policy == *"Candidate: (none)"* ]]; then
  say "SKIPPED: podman cannot be installed here (apt has no candidate for it)"
  exit $SKIP
fi
scripts/setup container || fail "scripts/setup container: podman and its tools did not install"
started=$SECONDS
curl() { command curl --max-time 10 "$@"; } # a stuck request fails the step, not the whole run
artifacts="$repo/build/test-artifacts/container"
rm -rf "$artifacts"

# --- Private podman: its own storage, runtime dirs, networks and registries config. Podman's
# defaults fail on these machines (systemd cgroups, crun, the file-descriptor limit).
state=$(mktemp -d "${PIER_CONTAINER_DIR:-/var/tmp}/pier-container.XXXXXX")
cat >"$state/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$state/storage"
runroot = "$state/run"
EOF
cat >"$state/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$state/events.log"
tmp_dir = "$state/tmp"
[network]
network_backend = "netavark"
network_config_dir = "$state/networks"
EOF
cat >"$state/registries.conf" <<EOF
unqualified-search-registries = []
short-name-mode = "disabled"
EOF
export CONTAINERS_STORAGE_CONF="$state/storage.conf"
export CONTAINERS_CONF="$state/containers.conf"
export CONTAINERS_REGISTRIES_CONF="$state/registries.conf"
mkdir -p "$state/tmp"
export TMPDIR="$state/tmp" # buildah's scratch space too, so an interrupted build leaves none
export BUILDAH_FORMAT=docker # keeps the Dockerfile's HEALTHCHECK (OCI images have none)

project="pier-smoke-$$"
compose=(podman-compose -p "$project" -f "$repo/docker-compose.yml")
container_of() { # $1 = compose service: its container, by podman-compose's labels
  podman ps -aq --filter "label=com.docker.compose.project=$project" \
    --filter "label=com.docker.compose.service=$1" | head -1
}
# netavark turns IPv4 forwarding on for its bridge; it is put back as it was.
ip_forward=$(cat /proc/sys/net/ipv4/ip_forward)
cleanup() {
  local rc=$?
  trap - EXIT
  if [ $rc -ne 0 ] && [ $rc -ne $SKIP ]; then
    for ctr in $(podman ps -a --format '{{.Names}}'); do
      podman logs "$ctr" >"$state/$ctr.log" 2>&1 || true
    done
    say "containers: $(podman ps -a --format '{{.Names}} {{.Status}}' | tr '\n' ';')"
    tail -n 30 "$state/${project}_pier_1.log" 2>/dev/null || true
  fi
  mkdir -p "$artifacts"
  cp "$state"/*.log "$artifacts/" 2>/dev/null || true
  if [ "${PIER_CONTAINER_KEEP:-0}" = 1 ]; then
    say "kept for debugging: export CONTAINERS_STORAGE_CONF=$state/storage.conf" \
      "CONTAINERS_CONF=$state/containers.conf CONTAINERS_REGISTRIES_CONF=$state/registries.conf"
    exit $rc
  fi
  # Only what this run made: its containers, network and images live in its private storage.
  "${compose[@]}" down >/dev/null 2>&1 || true
  podman rm -af -t 0 >/dev/null 2>&1 || true
  podman network rm -f "${project}_default" >/dev/null 2>&1 || true
  podman rmi -af >/dev/null 2>&1 || true
  findmnt -rn -o TARGET | grep "^$state/" | sort -r | xargs -r umount -l 2>/dev/null || true
  echo "$ip_forward" >/proc/sys/net/ipv4/ip_forward 2>/dev/null || true
  if rm -rf "$state"; then
    say "cleaned up ($state removed); $((SECONDS - started)) s in all"
  else
    say "could not remove all of $state"
  fi
  exit $rc
}
trap cleanup EXIT
trap 'fail "stopped by a signal (the 9-minute limit?) after $((SECONDS - started)) s"' TERM INT
podman info >/dev/null || fail "podman does not work with the private config in $state"

# --- The base image: debootstrap from the mirror apt uses, slimmed like debian:bookworm-slim
# (no docs, man pages or locales, now or in later installs), imported as a local image.
mirror=$(tests/container/apt_mirror.py bookworm) || fail "no Debian mirror in apt's sources"
say "debootstrap bookworm (minbase) from $mirror"
rootfs="$state/rootfs"
debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$state/debootstrap.log" 2>&1 ||
  { tail -20 "$state/debootstrap.log"; fail "debootstrap"; }
cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
cat >"$rootfs/etc/dpkg/dpkg.cfg.d/slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
EOF
find "$rootfs/usr/share/doc" -mindepth 2 ! -name copyright ! -type d -delete
rm -rf "$rootfs"/usr/share/{man,info,locale}/* "$rootfs"/var/cache/apt/*.bin \
  "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
tar -C "$rootfs" -c . | podman import -q - localhost/debian:bookworm-slim >/dev/null
rm -rf "$rootfs"

# --- Build and start the compose stack on free loopback ports.
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
export PIER_BASE=localhost/debian:bookworm-slim
export PIER_HTTP_PORT=$(free_port) PIER_ADMIN_PORT=$(free_port)
say "building the images ($((SECONDS - started)) s so far)"
"${compose[@]}" build >"$state/build.log" 2>&1 || { tail -40 "$state/build.log"; fail "build"; }
# podman-compose 1.0 reports success even when a build failed: the images tell.
for image in pier pier-redis pier-demo-backend; do
  podman image exists "localhost/$image:latest" || { tail -40 "$state/build.log"; fail "no $image image"; }
done
say "images built ($((SECONDS - started)) s so far):"
podman images --format '  {{.Repository}}:{{.Tag}} {{.Size}}' | grep -v debian
"${compose[@]}" up -d >"$state/up.log" 2>&1 || { tail -40 "$state/up.log"; fail "up"; }
pier_ctr=$(container_of pier)
redis_ctr=$(container_of redis)
[ -n "$pier_ctr" ] && [ -n "$redis_ctr" ] || { tail -40 "$state/up.log"; fail "no pier or redis container"; }

proxy="http://127.0.0.1:$PIER_HTTP_PORT"
admin="http://127.0.0.1:$PIER_ADMIN_PORT"
wait_for_200() { # $1 = url; up to 60 s
  for _ in $(seq 300); do
    if [ "$(curl -s -o /dev/null -w '%{http_code}' "$1")" = 200 ]; then return 0; fi
    sleep 0.2
  done
  fail "no 200 from $1 within 60 s"
}
header() { # $1 = header name; reads a response head on stdin
  tr -d '\r' | awk -v name="$(echo "$1" | tr 'A-Z' 'a-z')" -F': ' 'tolower($1) == name { print $2 }'
}
wait_for_200 "$proxy/"

# --- Proxying: round robin over the three backends by their compose names (each resolved by
# the stack's DNS); all three answer within 10 s.
seen=""
for _ in $(seq 50); do
  name=$(curl -s -D - -o /dev/null "$proxy/" | header X-Backend) || fail "a request through Pier"
  [[ " $seen " == *" $name "* ]] || seen="$seen $name"
  [ "$(wc -w <<<"$seen")" -ge 3 ] && break
  sleep 0.2
done
say "backends answering through Pier:$seen"
[ "$(wc -w <<<"$seen")" -eq 3 ] || fail "expected backend-1..3, got:$seen"

# --- The tiered cache: a miss stored, a hit from memory, then after a restart of Pier (its memory
# tier gone) a hit that can only have come from Redis.
cached="$proxy/smoke?counter=1&header=Cache-Control:max-age=300"
first=$(curl -s -D "$state/h1" "$cached") || fail "the first cached request"
second=$(curl -s -D "$state/h2" "$cached") || fail "the second cached request"
say "first: $(header Cache-Status <"$state/h1") / second: $(header Cache-Status <"$state/h2")"
[[ $(header Cache-Status <"$state/h1") == *"fwd=miss; stored"* ]] || fail "the first request was not stored"
[[ $(header Cache-Status <"$state/h2") == "pier; hit"* ]] || fail "the second request was not a hit"
[ "$first" = "$second" ] || fail "the hit's body differs from the stored one"
keys=$(podman exec "$redis_ctr" redis-cli --scan --pattern 'pier:cache:*') || fail "redis-cli"
keys=$(grep -c . <<<"$keys" || true)
[ "$keys" -ge 1 ] || fail "no cache entry in Redis"
say "Redis holds $keys cache key(s)"
[[ $(header RateLimit <"$state/h2") == '"per_client"'* ]] || fail "no RateLimit header (Redis rate limit)"

say "restarting Pier (SIGTERM, then a fresh process with an empty memory tier)"
podman restart -t 10 "$pier_ctr" >>"$state/podman.log" 2>&1 || fail "podman restart"
wait_for_200 "$proxy/"
third=$(curl -s -D "$state/h3" "$cached") || fail "the request after the restart"
say "after the restart: $(header Cache-Status <"$state/h3")"
[[ $(header Cache-Status <"$state/h3") == "pier; hit"* ]] || fail "not a hit from Redis after the restart"
[ "$third" = "$first" ] || fail "Redis's copy differs from the stored one"
# (Output is captured before grep: with pipefail, grep -q's early exit would fail the pipe.)
metrics=$(curl -s "$admin/metrics") || fail "/metrics"
sum() { awk -v name="$1" '$1 == name || index($1, name "{") == 1 { n += $NF } END { print n + 0 }' <<<"$metrics"; }
[ "$(sum pier_redis_up)" = 1 ] || fail "pier_redis_up is not 1"
[ "$(sum pier_ratelimit_allowed_total)" -ge 1 ] || fail "no rate-limit decision counted"
[ "$(sum pier_ratelimit_redis_errors_total)" = 0 ] || fail "rate-limit decisions failed in Redis"
say "metrics: redis up, $(sum pier_redis_commands_total) Redis commands, $(sum pier_ratelimit_allowed_total) rate-limit decisions, none failed"

# --- Health: the admin listener, and the image's HEALTHCHECK run by podman.
[ "$(curl -s "$admin/healthz")" = ok ] || fail "/healthz"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$admin/")" = 200 ] || fail "the dashboard"
[[ $(podman inspect -f '{{.Config.Healthcheck.Test}}' "$pier_ctr") == *--healthcheck* ]] ||
  fail "the image has no HEALTHCHECK"
podman healthcheck run "$pier_ctr" >>"$state/podman.log" 2>&1 || fail "podman healthcheck run: unhealthy"
say "/healthz ok, dashboard served, HEALTHCHECK healthy"

# --- workers: auto counts the CPUs the container may use (docker run --cpus), not the host's.
podman run -d --name "${project}_cpus" --cpus 1 --network "${project}_default" localhost/pier:latest \
  >>"$state/podman.log" 2>&1 || fail "podman run --cpus 1"
for _ in $(seq 50); do
  cpus_log=$(podman logs "${project}_cpus" 2>&1)
  if grep -q "worker(s)" <<<"$cpus_log"; then break; fi
  sleep 0.1
done
podman rm -f -t 2 "${project}_cpus" >>"$state/podman.log" 2>&1 || true
grep -q "with 1 worker(s)" <<<"$cpus_log" || fail "--cpus 1 did not give 1 worker: $cpus_log"
say "with --cpus 1: $(grep -o 'with [0-9]* worker(s)' <<<"$cpus_log")"

# --- SIGTERM as PID 1: a request in flight is finished, then Pier exits, well within 2 s.
curl -s -o "$state/slow" -w '%{http_code}' "$proxy/slow?delay=500" >"$state/slow.code" &
slow_pid=$!
for _ in $(seq 100); do # until Pier has the request in flight to a backend
  metrics=$(curl -s "$admin/metrics") || true
  [ "$(sum pier_upstream_in_flight)" -ge 1 ] && break
  sleep 0.02
done
[ "$(sum pier_upstream_in_flight)" -ge 1 ] || fail "the slow request never reached a backend"
t0=$(date +%s%N)
podman stop -t 10 "$pier_ctr" >>"$state/podman.log" 2>&1
stop_ms=$((($(date +%s%N) - t0) / 1000000))
wait $slow_pid || true
code=$(podman inspect -f '{{.State.ExitCode}}' "$pier_ctr")
say "Pier stopped in $stop_ms ms with exit code $code; the request in flight got $(cat "$state/slow.code")"
[ "$code" = 0 ] || fail "exit code $code"
[ "$stop_ms" -lt 2000 ] || fail "took $stop_ms ms to stop (the engine's kill comes at 10 s)"
[ "$(cat "$state/slow.code")" = 200 ] || fail "the request in flight was not finished"
pier_log=$(podman logs "$pier_ctr" 2>&1)
grep -q "received SIGTERM: draining" <<<"$pier_log" || fail "no drain in the log"

"${compose[@]}" down >/dev/null 2>&1
say "PASSED in $((SECONDS - started)) s"
