"""The benchmark's modes: one entry per mode. Adding a mode is adding an entry here.

Each mode names the URL path it requests (the origin, bench/nginx-origin.conf, serves /100b,
/16k, /1m and the same under /cache/ with a Cache-Control that lets caches keep them), the wrk
arguments (connections, extra headers), the proxies that run it, the proxies shown as "n/a" with a
reason (a capability Pier does not have yet: never faked), and the config fragments each proxy
needs for it. A fragment is {slot: text}; the slots are the {{...}} lines of the templates:

  nginx    NGINX_HTTP (http block), NGINX_LOCATIONS (server block)      bench/nginx-proxy.conf
  haproxy  HAPROXY_SECTIONS, HAPROXY_FRONTEND, HAPROXY_BACKENDS         bench/haproxy.cfg
  varnish  VCL_RECV (inside sub vcl_recv)                               bench/varnish.vcl
  pier     PIER_TOP (top-level keys), PIER_ROUTES (routes tried first)  bench/pier.yaml

Fragments may use the templates' placeholders ({{TMP}}, {{ORIGIN1}}, ...). Identical fragments of
several modes are inserted once: every proxy is started once per worker count with the fragments of
all the selected modes, and the modes are told apart by their paths.
"""

from dataclasses import dataclass, field

# Varnish is a cache: it takes part in cache-hit modes only (see VARNISH_NOTE).
PASS_PROXIES = ("pier", "haproxy", "nginx")
CACHE_PROXIES = ("haproxy", "nginx", "varnish")
ALL_PROXIES = ("pier", "haproxy", "nginx", "varnish")  # the order of the A B C interleaving

VARNISH_NOTE = ("Varnish is a cache and is measured in the cache-hit modes only: with pass-through "
                "it would be unfair either way (a Varnish that passes every request is not how "
                "it is run, and one that caches is not passing through).")


@dataclass(frozen=True)
class Mode:
    name: str                 # --modes name
    title: str                # heading in the report
    path: str                 # URL path requested through the proxy
    body: int                 # expected body bytes (checked before the run)
    wrk: tuple = ("-c", "64")  # wrk arguments besides -t, -d, -s and the URL
    proxies: tuple = PASS_PROXIES
    pending: dict = field(default_factory=dict)   # proxy -> why it shows "n/a"
    fragments: dict = field(default_factory=dict)  # proxy -> {slot: text}
    ratio_to: tuple = ("haproxy",)                 # paired per-round ratios reported against
    keepalive: bool = True    # False: a new connection per request


# --- cache-hit fragments -------------------------------------------------------------------------
# nginx: proxy_cache (its standard cache: files under the run's temp dir, served from the page cache).
# HAProxy: its in-memory cache on a backend used for /cache/ only.
# Varnish: caches by default (the origin sends Cache-Control: public, max-age=3600).
CACHE_FRAGMENTS = {
    "nginx": {
        "NGINX_HTTP": "    proxy_cache_path {{TMP}}/nginx-cache levels=1:2 keys_zone=bench:16m "
                      "max_size=512m inactive=1h use_temp_path=off;",
        "NGINX_LOCATIONS": "        location /cache/ {\n"
                           "            proxy_pass http://origin;\n"
                           "            proxy_cache bench;\n"
                           "            proxy_cache_valid 200 1h;\n"
                           "        }",
    },
    "haproxy": {
        "HAPROXY_SECTIONS": "cache bench\n"
                            "    total-max-size 256\n"
                            "    max-object-size 2000000\n"
                            "    max-age 3600",
        "HAPROXY_FRONTEND": "    use_backend origin_cached if { path_beg /cache/ }",
        "HAPROXY_BACKENDS": "backend origin_cached\n"
                            "    balance roundrobin\n"
                            "    http-request cache-use bench\n"
                            "    http-response cache-store bench\n"
                            "    server o1 127.0.0.1:{{ORIGIN1}}\n"
                            "    server o2 127.0.0.1:{{ORIGIN2}}",
    },
    "varnish": {},
    # Pier: its memory store on /cache/; the tiered store (memory in front of the run's
    # redis-server) for requests with "Host: tiered" (mode cache-100-tiered).
    "pier": {
        "PIER_TOP": "caches:\n"
                    "  bench: { store: memory, max_bytes: 256MiB, max_object: 2MiB }\n"
                    "  bench_tiered: { store: tiered, max_bytes: 256MiB, max_object: 2MiB }",
        "PIER_ROUTES": "  - match: { host: tiered, path_prefix: /cache/ }\n"
                       "    upstream: origin\n"
                       "    cache: bench_tiered\n"
                       "    access_log: false\n"
                       "  - match: { host: \"*\", path_prefix: /cache/ }\n"
                       "    upstream: origin\n"
                       "    cache: bench\n"
                       "    access_log: false",
    },
}
CACHE_WITH_PIER = ("pier",) + CACHE_PROXIES

LOG_FRAGMENTS = {
    "pier": {
        "PIER_TOP": "access_log: { path: \"{{TMP}}/pier-access.log\", format: json }",
        "PIER_ROUTES": "  - match: { host: logged, path_prefix: / }\n"
                       "    upstream: origin",
    },
}

# Rate limits high enough never to refuse: what a decision costs, not what refusing saves.
RATE_FRAGMENTS = {
    "pier": {
        "PIER_TOP": "rate_limits:\n"
                    "  bench_local: { key: client_ip, rate: 100000000/s, store: local }\n"
                    "  bench_redis: { key: client_ip, rate: 100000000/s, store: redis }",
        "PIER_ROUTES": "  - match: { host: rl-local, path_prefix: / }\n"
                       "    upstream: origin\n"
                       "    rate_limit: bench_local\n"
                       "    access_log: false\n"
                       "  - match: { host: rl-redis, path_prefix: / }\n"
                       "    upstream: origin\n"
                       "    rate_limit: bench_redis\n"
                       "    access_log: false",
    },
}

MODES = [
    Mode("pass-100", "Pass-through, 100 B body, 64 keep-alive clients", "/100b", 100),
    Mode("pass-16k", "Pass-through, 16 KiB body, 64 keep-alive clients", "/16k", 16384),
    Mode("pass-1m", "Pass-through, 1 MiB body, 16 keep-alive clients", "/1m", 1048576,
         wrk=("-c", "16")),
    Mode("cache-100", "Cache hit, 100 B body, 64 keep-alive clients", "/cache/100b", 100,
         proxies=CACHE_WITH_PIER, fragments=CACHE_FRAGMENTS, ratio_to=("haproxy", "varnish")),
    Mode("cache-16k", "Cache hit, 16 KiB body, 64 keep-alive clients", "/cache/16k", 16384,
         proxies=CACHE_WITH_PIER, fragments=CACHE_FRAGMENTS, ratio_to=("haproxy", "varnish")),
    Mode("cache-100-tiered", "Cache hit, 100 B body, Pier's tiered store (memory in front of "
         "Redis), 64 keep-alive clients", "/cache/100b", 100,
         wrk=("-c", "64", "-H", "Host: tiered"), proxies=CACHE_WITH_PIER,
         fragments=CACHE_FRAGMENTS, ratio_to=("haproxy", "varnish")),
    # The rate limiter's cost: Pier with a limit that never refuses (local, then Redis), paired
    # with HAProxy passing the same requests; compared with pass-100's ratio in the report.
    Mode("rate-local", "Pass-through, 100 B body, a local rate limit that never refuses, "
         "64 keep-alive clients", "/100b", 100, wrk=("-c", "64", "-H", "Host: rl-local"),
         proxies=("pier", "haproxy"), fragments=RATE_FRAGMENTS),
    Mode("rate-redis", "Pass-through, 100 B body, a Redis rate limit that never refuses, "
         "64 keep-alive clients", "/100b", 100, wrk=("-c", "64", "-H", "Host: rl-redis"),
         proxies=("pier", "haproxy"), fragments=RATE_FRAGMENTS),
    # The access log's cost: the same requests logged (JSON lines to a file), paired with
    # HAProxy, against pass-100's ratio. Metrics are counted in every mode.
    Mode("pass-100-logged", "Pass-through, 100 B body, with Pier's access log (JSON lines to a "
         "file), 64 keep-alive clients", "/100b", 100, wrk=("-c", "64", "-H", "Host: logged"),
         proxies=("pier", "haproxy"), fragments=LOG_FRAGMENTS),
    Mode("conn-1k", "Pass-through, 100 B body, 1,000 concurrent keep-alive clients", "/100b", 100,
         wrk=("-c", "1000", "--timeout", "10s")),
    Mode("new-conn", "Pass-through, 100 B body, a new connection per request (32 clients)",
         "/100b", 100, wrk=("-c", "32", "-H", "Connection: close"), keepalive=False),
]

# Modes that wait for a Pier capability: listed as pending in the report, not run.
PENDING_MODES = {}

# Memory: KiB of RSS per idle keep-alive client connection. Each proxy is started afresh, warmed up,
# then MEMORY_CONNECTIONS connections each send one request, read the response and stay open.
MEMORY_MODE = "memory"
MEMORY_CONNECTIONS = 2000
MEMORY_PATHS = {"pier": "/100b", "haproxy": "/100b", "nginx": "/100b", "varnish": "/cache/100b"}

BY_NAME = {m.name: m for m in MODES}
