"""The cache with Redis: the redis store shared by a fleet of Pier processes, the tiered store
(memory in front of Redis) and fleet-wide purge, Redis failures (down, paused, restarted), and
malformed entries. Redis is a real redis-server: scripts/test's, or one per test where the test
stops or pauses it.
"""

import signal
import time
import unittest

from harness import (PierTestCase, make_config, run_concurrently, run_pier, to_yaml, upstream,
                     wait_for)

FRESH = '/f?header=Cache-Control:max-age=60'


class RedisCacheTest(PierTestCase):

    def setUp(self):
        super().setUp()
        self.b1 = self.start_backend('b1')
        self.prefix = 'pier-test:%s:' % self.id().rsplit('.', 1)[-1]

    def config(self, redis_url, store='redis', workers=1, timeout='200ms'):
        route = {'match': {'host': '*', 'path_prefix': '/'}, 'upstream': 'app', 'cache': 'shared'}
        cache = {'store': store, 'max_bytes': '16MiB', 'max_object': '1MiB', 'prefix': self.prefix}
        return make_config({'app': upstream(self.b1, retry={'attempts': 1})}, routes=[route],
                           caches={'shared': cache}, workers=workers,
                           redis={'url': redis_url, 'timeout': timeout})

    def fetch(self, pier, target, headers=()):
        with self.connect(port=pier.port) as c:
            return c.get(target, headers)

    def requests(self):
        return self.b1.stats()['requests']

    def status(self, r):
        return r.header('Cache-Status')

    def test_a_response_fetched_through_one_pier_is_a_hit_on_another(self):
        url = self.shared_redis_url()
        a = self.start_pier(self.config(url))
        b = self.start_pier(self.config(url))
        first = self.fetch(a, FRESH)
        self.assertEqual(self.status(first), 'pier; fwd=miss; stored')
        second = self.fetch(b, FRESH)
        self.assertStatus(second, 200)
        self.assertEqual(second.body, b'b1\n')
        self.assertTrue(self.status(second).startswith('pier; hit'), self.status(second))
        self.assertEqual(self.requests(), 1)

    def test_vary_variants_through_redis(self):
        url = self.shared_redis_url()
        a = self.start_pier(self.config(url))
        b = self.start_pier(self.config(url))
        target = '/v?echo_header=Accept-Language&header=Vary:Accept-Language&header=Cache-Control:max-age=60'
        self.fetch(a, target, [('Accept-Language', 'en')])
        self.fetch(a, target, [('Accept-Language', 'fr')])
        en = self.fetch(b, target, [('Accept-Language', 'en')])
        fr = self.fetch(b, target, [('Accept-Language', 'fr')])
        self.assertEqual((en.body, fr.body), (b'en\n', b'fr\n'))
        self.assertTrue(self.status(en).startswith('pier; hit'))
        self.assertEqual(self.requests(), 2)
        de = self.fetch(b, target, [('Accept-Language', 'de')])
        self.assertEqual(self.status(de), 'pier; fwd=vary-miss; stored')

    def test_entries_expire_in_redis(self):
        redis = self.start_redis()
        self.start_pier(self.config(redis.url))
        self.get('/e?header=Cache-Control:max-age=5')
        keys = redis.command('KEYS', self.prefix + '*')
        self.assertEqual(len(keys), 1)
        ttl = redis.command('TTL', keys[0])
        self.assertTrue(3 <= ttl <= 5, ttl)  # freshness only: no validator, no stale window
        self.get('/v?etag=x&header=Cache-Control:max-age=5,stale-if-error=100')
        keys = redis.command('KEYS', self.prefix + '*etag*')
        ttl = redis.command('TTL', keys[0])
        self.assertTrue(160 <= ttl <= 165, ttl)  # 5 fresh + 100 stale-if-error + 60 to revalidate

    def test_tiered_purge_via_one_pier_clears_the_memory_tier_of_another(self):
        url = self.shared_redis_url()
        a = self.start_pier(self.config(url, store='tiered'))
        b = self.start_pier(self.config(url, store='tiered'))
        self.fetch(a, FRESH)
        self.assertTrue(self.status(self.fetch(b, FRESH)).startswith('pier; hit'))  # now in B's memory
        with self.connect(port=a.port) as c:
            self.assertStatus(c.roundtrip('PURGE', FRESH), 200)
        wait_for(lambda: self.status(self.fetch(b, FRESH)) == 'pier; fwd=miss; stored', 5,
                 message="B's memory tier purged through pub/sub")
        self.assertEqual(self.requests(), 2)

    def test_tiered_prefix_purge_and_invalidation_reach_the_fleet(self):
        url = self.shared_redis_url()
        a = self.start_pier(self.config(url, store='tiered'))
        b = self.start_pier(self.config(url, store='tiered'))
        pages = ['/p/1?header=Cache-Control:max-age=60', '/p/2?header=Cache-Control:max-age=60']
        for p in pages:
            self.fetch(a, p)
            self.fetch(b, p)
        with self.connect(port=b.port) as c:
            self.assertStatus(c.roundtrip('PURGE', '/p/*'), 200)
        for p in pages:
            wait_for(lambda: self.status(self.fetch(a, p)).startswith('pier; fwd=miss'), 5,
                     message='prefix purge reached A')
        # A POST through B invalidates the URL in A's memory tier too.
        self.fetch(a, FRESH)
        self.fetch(b, FRESH)
        with self.connect(port=b.port) as c:
            c.roundtrip('POST', FRESH, body=b'x')
        wait_for(lambda: self.status(self.fetch(a, FRESH)).startswith('pier; fwd=miss'), 5,
                 message='invalidation reached A')

    def test_redis_down_every_request_is_still_answered_and_caching_resumes(self):
        redis = self.start_redis()
        self.start_pier(self.config(redis.url))
        self.get(FRESH)
        self.assertTrue(self.status(self.get(FRESH)).startswith('pier; hit'))
        redis.stop(5)
        for i in range(20):
            r = self.get('/d%d?header=Cache-Control:max-age=60' % i)
            self.assertStatus(r, 200)
            self.assertEqual(r.body, b'b1\n')
        r = self.get(FRESH)
        self.assertStatus(r, 200)
        self.assertTrue(self.status(r).startswith('pier; fwd=miss'), self.status(r))
        restarted = self.start_redis(port=redis.port)
        # Reconnect backoff is at most 5 s.
        wait_for(lambda: self.status(self.get('/again?header=Cache-Control:max-age=60'))
                 .startswith('pier; hit'), 15, interval=0.2, message='caching through Redis again')
        self.assertEqual(len(restarted.command('KEYS', self.prefix + '*')), 1)
        log = self.pier.stderr_text()
        self.assertEqual(log.count('redis: down'), 1, log)
        self.assertEqual(log.count('redis: up again'), 1, log)

    def test_redis_paused_requests_proceed_within_the_timeout(self):
        redis = self.start_redis()
        self.start_pier(self.config(redis.url, timeout='100ms'))
        self.get(FRESH)
        redis.signal(signal.SIGSTOP)
        try:
            started = time.monotonic()
            for i in range(5):
                r = self.get(FRESH)
                self.assertStatus(r, 200)
                self.assertTrue(self.status(r).startswith('pier; fwd=miss'), self.status(r))
            # 5 lookups of 100 ms (and a store each, of 100 ms at most): generous bound.
            self.assertLess(time.monotonic() - started, 4.0)
        finally:
            redis.proc.send_signal(signal.SIGCONT)
        wait_for(lambda: self.status(self.get(FRESH)).startswith('pier; hit'), 15, interval=0.2,
                 message='hits again once Redis answers')

    def test_a_corrupt_entry_is_a_miss_and_is_deleted(self):
        redis = self.start_redis()
        self.start_pier(self.config(redis.url))
        self.get(FRESH)
        key = redis.command('KEYS', self.prefix + '*')[0]
        good = redis.command('GET', key)
        for bad in (b'garbage', good[:len(good) // 2], good[:-1] + bytes([good[-1] ^ 1])):
            self.assertEqual(len(redis.command('GET', key) or b''), len(good))  # stored again
            redis.command('SET', key, bad)
            r = self.get(FRESH)
            self.assertStatus(r, 200)
            self.assertEqual(r.body, b'b1\n')
            self.assertTrue(self.status(r).startswith('pier; fwd=miss'), self.status(r))
            self.assertTrue(self.pier.running())
        self.assertIn('malformed entry in Redis', self.pier.stderr_text())

    def test_concurrent_misses_through_redis_send_one_backend_request(self):
        url = self.shared_redis_url()
        self.start_pier(self.config(url, workers=2))
        target = '/slow?delay=500&counter=1&header=Cache-Control:max-age=60'
        results = run_concurrently(50, lambda _: self.get(target))
        self.assertEqual({r.body for r in results}, {b'b1 1\n'})
        self.assertEqual(self.requests(), 1)

    def test_redis_store_needs_a_redis_section(self):
        route = {'match': {'host': '*', 'path_prefix': '/'}, 'upstream': 'app', 'cache': 'shared'}
        config = make_config({'app': upstream(self.b1)}, routes=[route],
                             caches={'shared': {'store': 'redis'}})
        path = self.workdir / 'bad.yaml'
        config['listeners'] = [{'address': '127.0.0.1:1'}]
        path.write_text(to_yaml(config) + '\n')
        result = run_pier(['--check', str(path)])
        self.assertEqual(result.returncode, 1)
        self.assertRegex(result.stderr + result.stdout,
                         r'bad\.yaml:\d+:\d+: caches\.shared\.store: needs a top-level redis')


if __name__ == '__main__':
    unittest.main()
