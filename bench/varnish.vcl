# Varnish in front of the origin (bench/run), used in the cache-hit modes only: Varnish is a cache,
# and a pass-through comparison would be unfair to it or to the others whichever way it were set up.
# varnishd runs in the foreground with thread_pools = the run's worker count, malloc storage,
# timeout_idle=60s (see bench/bench.py). The VCL_RECV slot line receives the modes' fragments (bench/modes.py).
# Varnish's in-memory shared log (VSL) cannot be turned off; nothing reads it during the run.
vcl 4.1;

import directors;

backend o1 { .host = "127.0.0.1"; .port = "{{ORIGIN1}}"; }
backend o2 { .host = "127.0.0.1"; .port = "{{ORIGIN2}}"; }

sub vcl_init {
    new rr = directors.round_robin();
    rr.add_backend(o1);
    rr.add_backend(o2);
}

sub vcl_recv {
    set req.backend_hint = rr.backend();
{{VCL_RECV}}
}
