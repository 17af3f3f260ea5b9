"""Rate limiting: exact local GCRA under a concurrent burst, the refill rate, the RateLimit and
Retry-After headers, client addresses behind trusted proxies, keys from headers, bounded memory,
fleet-wide limits through Redis (three Pier processes), Redis failure policies, and the
per-upstream max_in_flight.
"""

import re
import time
import unittest

from harness import SANITIZED, PierTestCase, make_config, run_concurrently, upstream, wait_for


def limited_config(backend, limits, route_limits, workers=1, redis_url=None, **top):
    route = {'match': {'host': '*', 'path_prefix': '/'}, 'upstream': 'app',
             'rate_limit': route_limits}
    if redis_url:
        top['redis'] = {'url': redis_url, 'timeout': '200ms'}
    return make_config({'app': upstream(backend)}, routes=[route], rate_limits=limits,
                       workers=workers, **top)


class RateLimitTest(PierTestCase):

    def setUp(self):
        super().setUp()
        self.b1 = self.start_backend('b1')

    def statuses(self, results):
        return sorted(r.status for r in results)

    def test_a_concurrent_burst_lets_exactly_burst_through(self):
        limits = {'per_client': {'rate': '1/m', 'burst': 20}}  # no refill during the test
        self.start_pier(limited_config(self.b1, limits, 'per_client', workers=2))
        results = run_concurrently(70, lambda _: self.get('/'))
        codes = self.statuses(results)
        self.assertEqual(codes.count(200), 20, codes)
        self.assertEqual(codes.count(429), 50, codes)
        self.assertEqual(self.b1.stats()['requests'], 20)
        refused = next(r for r in results if r.status == 429)
        # One request per minute once the burst is spent: the next in about 60 s.
        self.assertIn(refused.header('Retry-After'), ('59', '60'))
        self.assertEqual(refused.header('RateLimit-Policy'), '"per_client";q=20;w=1200')
        self.assertRegex(refused.header('RateLimit'), r'^"per_client";r=0;t=\d+$')
        self.assertRegex(refused.body.decode(), r'^429 Too Many Requests: rate limit "per_client" '
                                                r'exceeded; retry in \d+ s\n$')

    def test_refill_at_the_configured_rate(self):
        limits = {'slow': {'rate': '10/s', 'burst': 1}}
        self.start_pier(limited_config(self.b1, limits, 'slow'))
        allowed = 0
        started = time.monotonic()
        with self.connect() as c:
            while time.monotonic() - started < 3.0:
                if c.get('/').status == 200:
                    allowed += 1
                time.sleep(0.005)
        elapsed = time.monotonic() - started
        # 10/s: about 30 in 3 s, plus the first; generous bounds for a loaded machine.
        self.assertGreaterEqual(allowed, int(elapsed * 10 * 0.7), allowed)
        self.assertLessEqual(allowed, int(elapsed * 10) + 2, allowed)

    def test_headers_on_allowed_responses_when_configured(self):
        limits = {'labelled': {'rate': '1/m', 'burst': 5, 'headers': True},
                  'quiet': {'rate': '1/m', 'burst': 100}}
        self.start_pier(limited_config(self.b1, limits, ['quiet', 'labelled']))
        with self.connect() as c:
            remaining = []
            for _ in range(5):
                r = c.get('/')
                self.assertStatus(r, 200)
                self.assertEqual(r.header('RateLimit-Policy'), '"labelled";q=5;w=300')
                remaining.append(int(re.search(r';r=(\d+)', r.header('RateLimit')).group(1)))
            self.assertEqual(remaining, [4, 3, 2, 1, 0])
            self.assertStatus(c.get('/'), 429)

    def test_without_headers_option_allowed_responses_are_unlabelled(self):
        self.start_pier(limited_config(self.b1, {'l': {'rate': '100/s'}}, 'l'))
        r = self.get('/')
        self.assertStatus(r, 200)
        self.assertIsNone(r.header('RateLimit'))

    def test_x_forwarded_for_counts_only_behind_trusted_proxies(self):
        limits = {'per_client': {'rate': '1/m', 'burst': 2}}
        # Pier's peer (127.0.0.1) is untrusted: a spoofed X-Forwarded-For changes nothing.
        self.start_pier(limited_config(self.b1, limits, 'per_client'))
        codes = [self.get('/', [('X-Forwarded-For', '198.51.100.%d' % i)]).status
                 for i in range(4)]
        self.assertEqual(codes, [200, 200, 429, 429])

    def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_bucket(self):
        limits = {'per_client': {'rate': '1/m', 'burst': 2}}
        self.start_pier(limited_config(self.b1, limits, 'per_client',
                                       trusted_proxies=['127.0.0.1']))
        for client in ('198.51.100.1', '198.51.100.2'):
            # The right-most untrusted address counts, not what the client prepended.
            codes = [self.get('/', [('X-Forwarded-For', '6.6.6.%d, %s' % (i, client))]).status
                     for i in range(3)]
            self.assertEqual(codes, [200, 200, 429], client)

    def test_key_from_a_request_header_and_combined_keys(self):
        limits = {'per_key': {'key': 'header:X-API-Key', 'rate': '1/m', 'burst': 1},
                  'per_route': {'key': ['route', 'client_ip'], 'rate': '1/m', 'burst': 10}}
        self.start_pier(limited_config(self.b1, limits, ['per_key', 'per_route']))
        self.assertStatus(self.get('/', [('X-API-Key', 'a')]), 200)
        self.assertStatus(self.get('/', [('X-API-Key', 'a')]), 429)
        self.assertStatus(self.get('/', [('X-API-Key', 'b')]), 200)
        self.assertStatus(self.get('/'), 200)  # no key: a bucket of its own
        self.assertStatus(self.get('/'), 429)

    def test_many_distinct_keys_never_refuse_and_stay_bounded(self):
        limits = {'per_key': {'key': 'header:X-API-Key', 'rate': '1/m', 'burst': 1,
                              'max_keys': 1000}}
        self.start_pier(limited_config(self.b1, limits, 'per_key'))
        rss_before = self.pier.rss_kib()
        with self.connect() as c:
            for i in range(5000):
                r = c.get('/', [('X-API-Key', 'key-%06d' % i)])
                if r.status != 200:
                    self.fail('distinct key %d refused: %d' % (i, r.status))
        # 5,000 buckets would be ~0.5 MiB at least; 1,000 kept: well under 4 MiB growth. (The
        # bound on keys itself is unit-tested: LocalStore.MemoryStaysWithinMaxKeys.)
        if not SANITIZED:
            self.assertLess(self.pier.rss_kib() - rss_before, 4096)

    def test_max_in_flight_answers_503_at_once(self):
        config = make_config({'app': upstream(self.b1, max_in_flight=2, retry={'attempts': 1})})
        self.start_pier(config)
        results = run_concurrently(6, lambda _: self.get('/?delay=1000'))
        codes = self.statuses(results)
        self.assertEqual(codes.count(200), 2, codes)
        self.assertEqual(codes.count(503), 4, codes)
        refused = next(r for r in results if r.status == 503)
        self.assertEqual(refused.header('Retry-After'), '1')
        self.assertIn(b'max_in_flight', refused.body)


class FleetRateLimitTest(PierTestCase):
    """Three Pier processes sharing one Redis enforce one limit, not three."""

    BURST = 30

    def setUp(self):
        super().setUp()
        self.b1 = self.start_backend('b1')

    def start_fleet(self, redis_url, on_redis_error='local_fallback', n=3):
        limits = {'fleet': {'rate': '1/m', 'burst': self.BURST, 'store': 'redis',
                            'on_redis_error': on_redis_error}}
        return [self.start_pier(limited_config(self.b1, limits, 'fleet', redis_url=redis_url))
                for _ in range(n)]

    def spread(self, piers, count):
        def one(i):
            with self.connect(port=piers[i % len(piers)].port) as c:
                return c.get('/')
        return [r.status for r in run_concurrently(count, one)]

    def test_the_fleet_allows_one_limit_in_total(self):
        redis = self.start_redis()
        piers = self.start_fleet(redis.url)
        codes = self.spread(piers, 120)
        allowed = codes.count(200)
        self.assertLessEqual(abs(allowed - self.BURST), int(self.BURST * 0.02) + 1, codes)
        self.assertEqual(allowed + codes.count(429), 120, codes)

    def test_redis_down_falls_back_per_policy_then_limits_globally_again(self):
        redis = self.start_redis()
        piers = self.start_fleet(redis.url)
        redis.stop(5)
        codes = self.spread(piers, 120)
        # local_fallback: each Pier applies the limit on its own: up to 3 bursts, nothing fails.
        self.assertEqual(codes.count(200) + codes.count(429), 120, codes)
        self.assertGreaterEqual(codes.count(200), self.BURST)
        self.assertLessEqual(codes.count(200), 3 * self.BURST)
        restarted = self.start_redis(port=redis.port)
        # Reconnect backoff is at most 5 s: wait until each Pier decides through Redis again.
        for p in piers:
            def decided_in_redis(p=p):
                restarted.command('FLUSHALL')
                with self.connect(port=p.port) as c:
                    c.get('/')
                return restarted.command('DBSIZE') > 0
            wait_for(decided_in_redis, 15, interval=0.3,
                     message='pier on :%d deciding through Redis again' % p.port)
        restarted.command('FLUSHALL')
        codes = self.spread(piers, 120)
        self.assertLessEqual(abs(codes.count(200) - self.BURST), int(self.BURST * 0.02) + 1, codes)

    def test_redis_down_with_allow_and_deny(self):
        for policy, expected in (('allow', 200), ('deny', 429)):
            with self.subTest(policy=policy):
                redis = self.start_redis()
                piers = self.start_fleet(redis.url, on_redis_error=policy, n=1)
                redis.stop(5)
                codes = self.spread(piers, 40)
                self.assertEqual(set(codes), {expected}, codes)


if __name__ == '__main__':
    unittest.main()
