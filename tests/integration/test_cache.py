"""HTTP caching (RFC 9111) with the in-memory store: hits and misses, freshness, revalidation,
Vary, what is never stored, invalidation, stale-while-revalidate, stale-if-error, coalescing and
max_object. Backend request counts (demo backend /stats) tell what reached the origin.
"""

import time
import unittest

from harness import PierTestCase, make_config, run_concurrently, upstream, wait_for

FRESH = '/f?header=Cache-Control:max-age=60'


def cache_config(backend, cache=None, route_cache='default', workers=1, **up):
    options = {'max_bytes': '16MiB', 'max_object': '1MiB'}
    options.update(cache or {})
    route = {'match': {'host': '*', 'path_prefix': '/'}, 'upstream': 'app', 'cache': route_cache}
    return make_config({'app': upstream(backend, **up)}, routes=[route],
                       caches={'default': options}, workers=workers)


class CacheTest(PierTestCase):

    def setUp(self):
        super().setUp()
        self.b1 = self.start_backend('b1')

    def requests(self):
        return self.b1.stats()['requests']

    def status(self, r):
        return r.header('Cache-Status')

    def test_miss_then_hit_with_age_and_cache_status(self):
        self.start_pier(cache_config(self.b1))
        first = self.get(FRESH)
        self.assertStatus(first, 200)
        self.assertEqual(self.status(first), 'pier; fwd=miss; stored')
        second = self.get(FRESH)
        self.assertStatus(second, 200)
        self.assertEqual(second.body, b'b1\n')
        self.assertRegex(self.status(second), r'^pier; hit; ttl=(59|60)$')
        self.assertIn(second.header('Age'), ('0', '1'))
        self.assertEqual(second.header('Content-Length'), '3')
        self.assertEqual(self.requests(), 1)

    def test_head_is_served_from_a_stored_get(self):
        self.start_pier(cache_config(self.b1))
        self.get(FRESH)
        with self.connect() as c:
            r = c.roundtrip('HEAD', FRESH)
        self.assertStatus(r, 200)
        self.assertEqual(r.body, b'')
        self.assertEqual(r.header('Content-Length'), '3')
        self.assertTrue(self.status(r).startswith('pier; hit'))
        self.assertEqual(self.requests(), 1)

    def test_keepalive_connection_mixes_hits_and_misses(self):
        self.start_pier(cache_config(self.b1))
        with self.connect() as c:
            for i in range(20):
                r = c.get(FRESH if i % 2 else '/other%d?header=Cache-Control:max-age=60' % i)
                self.assertStatus(r, 200)
                self.assertEqual(r.body, b'b1\n')
        self.assertEqual(self.requests(), 11)

    def test_response_without_freshness_or_validator_is_not_stored(self):
        self.start_pier(cache_config(self.b1))
        r = self.get('/plain')
        self.assertEqual(self.status(r), 'pier; fwd=miss; detail=no-freshness')
        self.get('/plain')
        self.assertEqual(self.requests(), 2)

    def test_default_ttl_set_by_the_route(self):
        config = cache_config(self.b1, route_cache={'name': 'default', 'default_ttl': '30s'})
        self.start_pier(config)
        self.get('/plain')
        r = self.get('/plain')
        self.assertRegex(self.status(r), r'^pier; hit; ttl=(29|30)$')
        self.assertEqual(self.requests(), 1)

    def test_never_stored(self):
        self.start_pier(cache_config(self.b1))
        cases = [
            ('/a?header=Cache-Control:no-store,max-age=60', (), 'no-store'),
            ('/b?header=Cache-Control:private,max-age=60', (), 'private'),
            ('/c?header=Cache-Control:max-age=60', [('Authorization', 'Basic eDp5')],
             'authorization'),
            ('/d?header=Cache-Control:max-age=60&header=Set-Cookie:a=b', (), 'set-cookie'),
            ('/e?header=Cache-Control:max-age=60&header=Vary:*', (), 'vary-star'),
            ('/f?header=Cache-Control:max-age=60', [('Cache-Control', 'no-store')], 'no-store'),
        ]
        for target, headers, why in cases:
            before = self.requests()
            first = self.get(target, headers)
            self.assertEqual(self.status(first), 'pier; fwd=miss; detail=' + why, target)
            self.get(target, headers)
            self.assertEqual(self.requests() - before, 2, target)

    def test_authorization_with_public_is_stored(self):
        self.start_pier(cache_config(self.b1))
        auth = [('Authorization', 'Basic eDp5')]
        self.get('/p?header=Cache-Control:public,max-age=60', auth)
        r = self.get('/p?header=Cache-Control:public,max-age=60', auth)
        self.assertTrue(self.status(r).startswith('pier; hit'))
        self.assertEqual(self.requests(), 1)

    def test_set_cookie_stored_when_the_route_allows_it(self):
        config = cache_config(self.b1, route_cache={'name': 'default', 'store_set_cookie': True})
        self.start_pier(config)
        target = '/d?header=Cache-Control:max-age=60&header=Set-Cookie:a=b'
        self.get(target)
        r = self.get(target)
        self.assertTrue(self.status(r).startswith('pier; hit'))
        self.assertEqual(r.header('Set-Cookie'), 'a=b')

    def test_stale_entry_is_revalidated_with_its_etag(self):
        self.start_pier(cache_config(self.b1))
        # max-age=2, not 1: ages are whole seconds, so an entry with a 1 s lifetime that the 304
        # refreshed late in a second is stale again when the clock ticks before the next request.
        target = '/r?etag=v1&header=Cache-Control:max-age=2&header=X-Gen:one'
        self.get(target)
        time.sleep(3.2)  # max-age=2: stale after at most 3 s of whole-second ages
        r = self.get(target)
        self.assertStatus(r, 200)
        self.assertEqual(r.body, b'b1\n')
        self.assertEqual(self.status(r), 'pier; fwd=stale; fwd-status=304')
        self.assertEqual(r.header('ETag'), '"v1"')
        self.assertEqual(self.requests(), 2)
        # The 304 refreshed it: fresh again.
        again = self.get(target)
        self.assertTrue(self.status(again).startswith('pier; hit'), self.status(again))
        self.assertEqual(self.requests(), 2)

    def test_client_conditional_answered_from_a_fresh_entry(self):
        self.start_pier(cache_config(self.b1))
        target = '/c?etag=v7&header=Cache-Control:max-age=60'
        self.get(target)
        r = self.get(target, [('If-None-Match', '"v7"')])
        self.assertStatus(r, 304)
        self.assertEqual(r.body, b'')
        self.assertEqual(r.header('ETag'), '"v7"')
        other = self.get(target, [('If-None-Match', '"v8"')])
        self.assertStatus(other, 200)
        self.assertEqual(self.requests(), 1)

    def test_client_conditional_on_a_miss_still_stores_the_full_response(self):
        self.start_pier(cache_config(self.b1))
        target = '/m?etag=v1&header=Cache-Control:max-age=60'
        first = self.get(target, [('If-None-Match', '"v1"')])
        self.assertStatus(first, 200)  # the cache asked for the full response to store it
        self.assertEqual(self.status(first), 'pier; fwd=miss; stored')
        second = self.get(target, [('If-None-Match', '"v1"')])
        self.assertStatus(second, 304)
        self.assertEqual(self.requests(), 1)

    def test_vary_keeps_one_variant_per_selecting_header(self):
        self.start_pier(cache_config(self.b1))
        target = '/v?echo_header=Accept-Language&header=Vary:Accept-Language&header=Cache-Control:max-age=60'
        en = self.get(target, [('Accept-Language', 'en')])
        fr = self.get(target, [('Accept-Language', 'fr')])
        self.assertEqual((en.body, fr.body), (b'en\n', b'fr\n'))
        self.assertEqual(self.status(fr), 'pier; fwd=vary-miss; stored')
        en2 = self.get(target, [('Accept-Language', 'EN')])  # normalised: case-insensitive
        fr2 = self.get(target, [('Accept-Language', 'fr')])
        self.assertEqual((en2.body, fr2.body), (b'en\n', b'fr\n'))
        self.assertTrue(self.status(en2).startswith('pier; hit'))
        self.assertEqual(self.requests(), 2)
        none = self.get(target)
        self.assertEqual(none.body, b'\n')
        self.assertEqual(self.requests(), 3)

    def test_request_directives_no_cache_max_age_min_fresh_max_stale(self):
        self.start_pier(cache_config(self.b1))
        self.get(FRESH)
        r = self.get(FRESH, [('Cache-Control', 'no-cache')])
        self.assertTrue(self.status(r).startswith('pier; fwd=request'), self.status(r))
        self.get(FRESH, [('Pragma', 'no-cache')])
        self.assertEqual(self.requests(), 3)
        # Age 30 (the origin says so): too old for max-age=10, not fresh enough for min-fresh=40.
        aged = '/aged?header=Cache-Control:max-age=60&header=Age:30'
        self.get(aged)
        self.assertEqual(self.requests(), 4)
        self.assertTrue(self.status(self.get(aged)).startswith('pier; hit'))
        self.get(aged, [('Cache-Control', 'max-age=10')])
        self.assertEqual(self.requests(), 5)
        self.get(aged, [('Cache-Control', 'min-fresh=40')])
        self.assertEqual(self.requests(), 6)
        # Stale (age 70 of 60), and the client accepts up to 30 s of staleness.
        old = '/old?header=Cache-Control:max-age=60&header=Age:70'
        self.get(old)
        r = self.get(old, [('Cache-Control', 'max-stale=30')])
        self.assertRegex(self.status(r), r'^pier; hit; ttl=-1\d$')
        self.assertEqual(self.requests(), 7)

    def test_only_if_cached(self):
        self.start_pier(cache_config(self.b1))
        miss = self.get(FRESH, [('Cache-Control', 'only-if-cached')])
        self.assertStatus(miss, 504)
        self.assertEqual(self.requests(), 0)
        self.get(FRESH)
        hit = self.get(FRESH, [('Cache-Control', 'only-if-cached')])
        self.assertStatus(hit, 200)

    def test_unsafe_method_invalidates_target_and_same_origin_location(self):
        self.start_pier(cache_config(self.b1))
        page = '/page?header=Cache-Control:max-age=60'
        other = '/other?header=Cache-Control:max-age=60'
        self.get(page)
        self.get(other)
        self.assertEqual(self.requests(), 2)
        r = self.request('POST', page, body=b'x')
        self.assertEqual(self.status(r), 'pier; fwd=method')
        self.assertEqual(self.status(self.get(page)), 'pier; fwd=miss; stored')
        self.assertTrue(self.status(self.get(other)).startswith('pier; hit'))
        # A DELETE whose response names /other in Location invalidates it too.
        self.request('DELETE', '/x?header=Location:/other%3Fheader%3DCache-Control:max-age%3D60')
        self.assertEqual(self.status(self.get(other)), 'pier; fwd=miss; stored')
        # A failed unsafe request invalidates nothing.
        self.request('POST', page + '&status=500', body=b'x')
        self.assertTrue(self.status(self.get(page)).startswith('pier; hit'))

    def test_a_streamed_unsafe_request_invalidates_its_url_also_with_key_headers(self):
        self.start_pier(cache_config(self.b1, {'key': {'headers': ['X-Tenant']}}))
        page = '/big-post?header=Cache-Control:max-age=60'
        for tenant in ('a', 'b'):
            self.get(page, [('X-Tenant', tenant)])
        self.assertTrue(self.status(self.get(page, [('X-Tenant', 'a')])).startswith('pier; hit'))
        # A body far larger than one read: streamed, so the request head's buffer is reused.
        self.request('POST', page, body=b'x' * (1 << 20))
        for tenant in ('a', 'b'):
            r = self.get(page, [('X-Tenant', tenant)])
            self.assertEqual(self.status(r), 'pier; fwd=miss; stored', tenant)

    def test_ignored_and_sorted_query_parameters_share_an_entry(self):
        self.start_pier(cache_config(self.b1, {'key': {'ignore_query': ['utm_source'],
                                                       'sort_query': True}}))
        self.get('/q?header=Cache-Control:max-age=60&a=1&utm_source=x')
        r = self.get('/q?a=1&header=Cache-Control:max-age=60&utm_source=y')
        self.assertTrue(self.status(r).startswith('pier; hit'), self.status(r))
        self.assertEqual(self.requests(), 1)

    def test_stale_while_revalidate_serves_stale_and_refreshes_once(self):
        self.start_pier(cache_config(self.b1))
        # The origin takes 1.5 s, so the refresh is still under way while stale hits arrive.
        # That delay counts in the age (RFC 9111 §4.2.3): an entry starts 1-2 s old, so max-age=3
        # keeps the refreshed one fresh for the checks below.
        target = '/s?delay=1500&counter=1&header=Cache-Control:max-age=3,stale-while-revalidate=60'
        first = self.get(target)
        self.assertEqual(first.body, b'b1 1\n')
        time.sleep(3.2)
        started = time.monotonic()
        results = run_concurrently(5, lambda _: self.get(target))
        self.assertLess(time.monotonic() - started, 1.2, 'stale hits must not wait for the origin')
        for r in results:
            self.assertStatus(r, 200)
            self.assertEqual(r.body, b'b1 1\n')
            self.assertRegex(self.status(r), r'^pier; hit; ttl=-\d+$')
        wait_for(lambda: self.get(target).body == b'b1 2\n', 10, message='the refreshed entry')
        self.assertEqual(self.requests(), 2, 'concurrent stale hits must start one refresh')

    def test_stale_while_revalidate_only_within_its_window(self):
        self.start_pier(cache_config(self.b1))
        target = '/w?counter=1&header=Cache-Control:max-age=1,stale-while-revalidate=1'
        self.get(target)
        time.sleep(3.2)  # stale by 2 s or more: beyond the 1 s window
        r = self.get(target)
        self.assertEqual(r.body, b'b1 2\n')
        self.assertEqual(self.status(r), 'pier; fwd=stale; stored')

    def test_stale_if_error_serves_stale_when_the_backend_fails(self):
        self.start_pier(cache_config(self.b1, retry={'attempts': 1}))
        target = '/e?header=Cache-Control:max-age=1,stale-if-error=60'
        self.get(target)
        time.sleep(2.2)
        self.b1.control(fail=1)  # every request now gets 503
        r = self.get(target)
        self.assertStatus(r, 200)
        self.assertEqual(r.body, b'b1\n')
        self.assertEqual(self.status(r), 'pier; fwd=stale; fwd-status=503; detail=stale-if-error')
        self.b1.stop()
        down = self.get(target)
        self.assertStatus(down, 200)
        self.assertEqual(self.status(down), 'pier; fwd=stale; detail=stale-if-error')

    def test_without_stale_if_error_a_failure_is_passed_on(self):
        self.start_pier(cache_config(self.b1, retry={'attempts': 1}))
        target = '/e?header=Cache-Control:max-age=1'
        self.get(target)
        time.sleep(2.2)
        self.b1.control(fail=1)
        self.assertStatus(self.get(target), 503)

    def test_concurrent_misses_send_one_backend_request(self):
        self.start_pier(cache_config(self.b1, workers=2))
        target = '/slow?delay=500&counter=1&header=Cache-Control:max-age=60'
        results = run_concurrently(100, lambda _: self.get(target))
        bodies = {r.body for r in results}
        self.assertEqual(bodies, {b'b1 1\n'})
        self.assertEqual(self.requests(), 1)
        statuses = [self.status(r) for r in results]
        self.assertEqual(sum(s == 'pier; fwd=miss; stored' for s in statuses), 1, statuses)

    def test_coalesced_waiters_fetch_themselves_when_the_response_is_not_storable(self):
        self.start_pier(cache_config(self.b1))
        target = '/slow?delay=300&header=Cache-Control:no-store'
        results = run_concurrently(5, lambda _: self.get(target))
        self.assertTrue(all(r.status == 200 for r in results))
        self.assertEqual(self.requests(), 5)

    def test_response_over_max_object_streams_and_is_not_stored(self):
        self.start_pier(cache_config(self.b1, {'max_bytes': '64MiB', 'max_object': '1MiB'}))
        size = 50 << 20
        target = '/big?size=%d&header=Cache-Control:max-age=60' % size
        r = self.get(target)
        self.assertStatus(r, 200)
        self.assertEqual(r.body_length, size)
        self.assertEqual(self.status(r), 'pier; fwd=miss; detail=too-large')
        # Chunked, so the size is discovered midway: streamed whole, dropped from caching.
        chunked = self.get('/bigc?chunked=1&size=%d&header=Cache-Control:max-age=60' % (2 << 20))
        self.assertEqual(chunked.body_length, 2 << 20)
        again = self.get('/bigc?chunked=1&size=%d&header=Cache-Control:max-age=60' % (2 << 20))
        self.assertEqual(again.body_length, 2 << 20)
        self.assertEqual(self.requests(), 3)

    def test_chunked_response_is_stored_and_served_with_content_length(self):
        self.start_pier(cache_config(self.b1))
        target = '/ch?chunked=1&size=100000&header=Cache-Control:max-age=60'
        first = self.get(target)
        self.assertEqual(first.framing, 'chunked')
        second = self.get(target)
        self.assertEqual(second.framing, 'length')
        self.assertEqual(second.body, first.body)
        self.assertEqual(self.requests(), 1)

    def test_purge_a_url_and_a_prefix(self):
        self.start_pier(cache_config(self.b1))
        urls = ['/p/a?header=Cache-Control:max-age=60', '/p/b?header=Cache-Control:max-age=60',
                '/q?header=Cache-Control:max-age=60']
        for u in urls:
            self.get(u)
        r = self.request('PURGE', urls[0])
        self.assertStatus(r, 200)
        self.assertEqual(self.requests(), 3, 'PURGE is never forwarded')
        self.assertStatus(self.request('PURGE', urls[0]), 404)
        self.assertEqual(self.status(self.get(urls[0])), 'pier; fwd=miss; stored')
        self.assertStatus(self.request('PURGE', '/p/*'), 200)
        self.assertEqual(self.status(self.get(urls[1])), 'pier; fwd=miss; stored')
        self.assertTrue(self.status(self.get(urls[2])).startswith('pier; hit'))

    def test_purge_only_from_allowed_addresses(self):
        self.start_pier(cache_config(self.b1, {'purge_allow': ['10.0.0.0/8']}))
        self.get(FRESH)
        self.assertStatus(self.request('PURGE', FRESH), 403)
        self.assertTrue(self.status(self.get(FRESH)).startswith('pier; hit'))

    def test_route_without_cache_is_untouched(self):
        route_cached = {'match': {'host': '*', 'path_prefix': '/c/'}, 'upstream': 'app',
                        'cache': 'default'}
        route_plain = {'match': {'host': '*', 'path_prefix': '/'}, 'upstream': 'app'}
        self.start_pier(make_config({'app': upstream(self.b1)}, routes=[route_cached, route_plain],
                                    caches={'default': {}}))
        r = self.get(FRESH)
        self.assertIsNone(self.status(r))
        self.get(FRESH)
        self.assertEqual(self.requests(), 2)


if __name__ == '__main__':
    unittest.main()
