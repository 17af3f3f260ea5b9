# Pier's container images, all from one Debian base (no other registry is needed):
#   pier (the default target): the proxy, non-root, config at /etc/pier/pier.yaml
#   demo-backend:              tools/demo_backend.py, for docker-compose.yml's demo stack
#   redis:                     Debian's redis-server, for docker-compose.yml
# docker build -t pier .   (podman: add --format docker, or BUILDAH_FORMAT=docker, to keep the
# HEALTHCHECK: OCI images have none)
# BASE may name a locally made image, e.g. --build-arg BASE=localhost/debian:bookworm-slim.
ARG BASE=debian:bookworm-slim

# --- build: the README's set-up on a fresh Debian (scripts/setup), then a Release build.
FROM ${BASE} AS build
WORKDIR /src
COPY scripts/setup scripts/setup
RUN scripts/setup build && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/cache/apt/archives/*.deb
COPY CMakeLists.txt ./
COPY src src
RUN cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DPIER_TESTS=OFF >/dev/null \
 && cmake --build build --target pier \
 && strip build/pier \
 && build/pier --version
# The Debian packages of the shared libraries pier links (dpkg knows each file's package), so the
# runtime stage installs exactly those and no list here can go stale.
RUN set -e; : > build/owners; \
    for lib in $(ldd build/pier | awk '/=> \//{print $3}'); do \
      owner=$(dpkg -S "$lib" 2>/dev/null || dpkg -S "$(readlink -f "$lib")") \
        || { echo "no Debian package owns $lib" >&2; exit 1; }; \
      echo "${owner%%:*}" >> build/owners; \
    done; \
    sort -u build/owners > build/runtime-packages; \
    cat build/runtime-packages; grep -q yaml-cpp build/runtime-packages

# --- demo-backend: the demo origin (Python standard library only).
FROM ${BASE} AS demo-backend
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3 \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/cache/apt/archives/*.deb
COPY tools/demo_backend.py /usr/local/bin/demo_backend.py
USER nobody
ENTRYPOINT ["python3", "/usr/local/bin/demo_backend.py", "--host", "0.0.0.0"]
CMD ["--port", "9001"]

# --- redis: Debian's redis-server, memory only, evicting least-recently-used keys when full
# (cache entries and rate-limit buckets can all be rebuilt).
FROM ${BASE} AS redis
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/cache/apt/archives/*.deb
USER redis
EXPOSE 6379
ENTRYPOINT ["redis-server"]
CMD ["--bind", "0.0.0.0", "--protected-mode", "no", "--save", "", "--appendonly", "no", \
     "--maxmemory", "256mb", "--maxmemory-policy", "allkeys-lru"]

# --- pier: the runtime libraries, the binary and its config; nothing of the build.
FROM ${BASE} AS pier
COPY --from=build /src/build/runtime-packages /tmp/runtime-packages
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive xargs apt-get install -y -qq --no-install-recommends \
      < /tmp/runtime-packages \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/cache/apt/archives/*.deb /tmp/runtime-packages \
 && groupadd --system --gid 10001 pier \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin pier
COPY --from=build /src/build/pier /usr/local/bin/pier
# The compose stack's config (docker-compose.yml mounts its own copy over it): readable by the
# pier user whatever the umask of the checkout it came from.
COPY config/pier.docker.yaml /etc/pier/pier.yaml
RUN chmod 0644 /etc/pier/pier.yaml
# Numeric, so that Kubernetes' runAsNonRoot can verify it.
USER 10001:10001
EXPOSE 8080 9901
# Pier drains on SIGTERM (idle connections closed at once, requests in flight finished) and
# exits; it is PID 1 here and handles the signal itself, so no init is needed.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=5s --start-period=5s --retries=3 \
  CMD ["pier", "--config", "/etc/pier/pier.yaml", "--healthcheck"]
ENTRYPOINT ["pier"]
CMD ["--config", "/etc/pier/pier.yaml"]
