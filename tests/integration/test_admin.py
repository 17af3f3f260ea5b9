"""The admin listener: Prometheus metrics (checked by promtool and scraped by a real Prometheus),
the JSON API, /healthz and /readyz, access rules (loopback, bearer token), and purge.
"""

import json
import shutil
import subprocess
import unittest
import urllib.parse

from harness import (HOST, Conn, PierTestCase, ManagedProcess, free_port, http_request,
                     make_config, run_pier, to_yaml, upstream, wait_for)

PROMETHEUS = shutil.which('prometheus')
PROMTOOL = shutil.which('promtool')
TOKEN = 'test-token-0123456789abcdef'


class AdminTest(PierTestCase):

    def setUp(self):
        super().setUp()
        self.b1 = self.start_backend('b1')

    def admin(self, method, path, headers=(), pier=None):
        pier = pier or self.pier
        return http_request(pier.admin_port, method, path, headers=list(headers) +
                            [('Connection', 'close')])

    def admin_json(self, path):
        r = self.admin('GET', path)
        self.assertStatus(r, 200)
        return json.loads(r.body)

    def cached_config(self, **top):
        route = {'match': {'host': '*', 'path_prefix': '/'}, 'upstream': 'app', 'cache': 'c',
                 'rate_limit': 'rl'}
        return make_config({'app': upstream(self.b1)}, routes=[route], caches={'c': {}},
                           rate_limits={'rl': {'rate': '1/m', 'burst': 50}}, **top)

    def test_metrics_count_what_pier_served_and_pass_promtool(self):
        self.start_pier(self.cached_config())
        for i in range(10):
            self.get('/m%d?header=Cache-Control:max-age=60' % (i % 4))
        self.get('/nope?status=503')
        # A request is counted once its response is written, so a scrape right after the client
        # read the last response may come just before that.
        last = 'pier_requests_total{route="0:*/",method="GET",code="5xx"} 1'
        wait_for(lambda: last in self.admin('GET', '/metrics').body.decode(), 5,
                 message='the last request in the metrics')
        r = self.admin('GET', '/metrics')
        self.assertStatus(r, 200)
        self.assertTrue(r.header('Content-Type').startswith('text/plain; version=0.0.4'))
        text = r.body.decode()
        self.assertIn('pier_requests_total{route="0:*/",method="GET",code="2xx"} 10', text)
        self.assertIn('pier_requests_total{route="0:*/",method="GET",code="5xx"} 1', text)
        self.assertIn('pier_cache_hits_total{cache="c"} 6', text)
        self.assertIn('pier_cache_misses_total{cache="c"} 5', text)
        self.assertIn('pier_ratelimit_allowed_total{limit="rl"} 11', text)
        self.assertIn('pier_upstream_requests_total{upstream="app",backend="%s"} 5'
                      % self.b1.address, text)
        self.assertIn('pier_request_duration_seconds_count{route="0:*/"} 11', text)
        self.assertIn('pier_upstream_healthy{upstream="app",backend="%s"} 1' % self.b1.address,
                      text)
        self.assertGroupedByFamily(text)
        if PROMTOOL:
            check = subprocess.run([PROMTOOL, 'check', 'metrics'], input=r.body,
                                   capture_output=True, timeout=30)
            self.assertEqual(check.returncode, 0, check.stdout + check.stderr)

    def test_metrics_with_redis_and_a_tiered_cache_keep_families_grouped(self):
        route = {'match': {'host': '*', 'path_prefix': '/'}, 'upstream': 'app', 'cache': 't',
                 'rate_limit': 'rl'}
        self.start_pier(make_config({'app': upstream(self.b1)}, routes=[route], workers=2,
                                    caches={'t': {'store': 'tiered', 'prefix': 'admin-test:'}},
                                    rate_limits={'rl': {'rate': '1/m', 'burst': 50,
                                                        'store': 'redis'}},
                                    redis={'url': self.shared_redis_url()}))
        wait_for(lambda: 'pier_redis_up 1' in self.admin('GET', '/metrics').body.decode(), 10,
                 message='pier_redis_up 1')
        self.get('/t?header=Cache-Control:max-age=60')
        text = self.admin('GET', '/metrics').body.decode()
        for family in ('pier_redis_commands_total', 'pier_cache_entries',
                       'pier_ratelimit_redis_errors_total'):
            self.assertIn('# TYPE %s ' % family, text)
        self.assertGroupedByFamily(text)

    def assertGroupedByFamily(self, text):
        """The text format: each family once, its samples right after its HELP and TYPE lines."""
        seen, family, kind = set(), None, None
        for line in text.splitlines():
            if line.startswith('# TYPE '):
                family, kind = line.split()[2:4]
                self.assertNotIn(family, seen, 'family %s appears twice' % family)
                seen.add(family)
            elif line and not line.startswith('#'):
                name = line.split('{')[0].split(' ')[0]
                if kind == 'histogram':
                    for suffix in ('_bucket', '_sum', '_count'):
                        if name.endswith(suffix):
                            name = name[:-len(suffix)]
                self.assertEqual(name, family, 'sample %r is not under its family' % line)

    @unittest.skipUnless(PROMETHEUS, 'prometheus is not installed (scripts/setup installs it)')
    def test_a_real_prometheus_scrapes_pier(self):
        self.start_pier(self.cached_config())
        for i in range(37):
            self.get('/p?i=%d' % i)
        web = free_port()
        config = self.workdir / 'prometheus.yml'
        config.write_text(to_yaml({
            'global': {'scrape_interval': '1s', 'evaluation_interval': '1s'},
            'scrape_configs': [{'job_name': 'pier', 'static_configs': [
                {'targets': ['%s:%d' % (HOST, self.pier.admin_port)]}]}],
        }) + '\n')
        prom = ManagedProcess([PROMETHEUS, '--config.file=%s' % config,
                               '--storage.tsdb.path=%s' % (self.workdir / 'tsdb'),
                               '--web.listen-address=%s:%d' % (HOST, web)],
                              'prometheus', self.workdir)
        self.addCleanup(prom.stop, 10)

        def served():
            query = urllib.parse.quote('sum(pier_requests_total)')
            try:
                r = http_request(web, 'GET', '/api/v1/query?query=' + query,
                                 headers=[('Connection', 'close')])
            except OSError:
                return None
            if r.status != 200:
                return None
            result = json.loads(r.body)['data']['result']
            return int(float(result[0]['value'][1])) if result else None

        wait_for(lambda: served() == 37, 60, interval=0.5,
                 message='Prometheus answering sum(pier_requests_total) == 37')

    def test_json_api(self):
        self.start_pier(self.cached_config())
        self.get('/j?header=Cache-Control:max-age=60')
        self.get('/j?header=Cache-Control:max-age=60')
        status = self.admin_json('/api/status')
        self.assertEqual(status['version'], '0.1.0')
        self.assertEqual(status['routes'][0]['cache'], 'c')
        self.assertEqual(status['routes'][0]['rate_limits'], ['rl'])
        # A request is counted once its response is written: the client may read it first.
        def cache_counts():
            cache = self.admin_json('/api/cache')['caches'][0]
            return (cache['name'], cache['hits'], cache['misses'], cache['entries'])
        wait_for(lambda: cache_counts() == ('c', 1, 1, 1), 5,
                 message='one hit, one miss, one entry in /api/cache')
        limits = self.admin_json('/api/ratelimits')['rate_limits'][0]
        self.assertEqual((limits['name'], limits['allowed'], limits['limited']), ('rl', 2, 0))
        wait_for(lambda: self.admin_json('/api/series')['points'], 5, message='a series point')
        backends = self.admin_json('/api/upstreams')['upstreams'][0]['backends']
        self.assertEqual(backends[0]['address'], self.b1.address)
        self.assertTrue(backends[0]['healthy'])

    def test_healthz_and_readyz_follow_the_backends(self):
        self.start_pier(make_config({'app': upstream(
            self.b1, health={'path': '/healthz', 'interval': '200ms', 'fall': 1, 'rise': 1})}))
        self.assertEqual(self.admin('GET', '/healthz').body, b'ok\n')
        self.assertStatus(self.admin('GET', '/readyz'), 200)
        self.b1.control(healthy=0)
        wait_for(lambda: self.admin('GET', '/readyz').status == 503, 5, message='not ready')
        reasons = json.loads(self.admin('GET', '/readyz').body)['reasons']
        self.assertIn('no usable backend in upstream app', reasons[0])
        self.b1.control(healthy=1)
        wait_for(lambda: self.admin('GET', '/readyz').status == 200, 5, message='ready again')

    def test_post_needs_the_token(self):
        token_file = self.workdir / 'token'
        token_file.write_text(TOKEN + '\n')
        self.start_pier(self.cached_config(admin={'address': '%s:%d' % (HOST, free_port()),
                                                  'token_file': str(token_file)}))
        fresh = '/t?header=Cache-Control:max-age=60'
        self.get(fresh)
        purge = '/api/cache/purge?key=' + urllib.parse.quote('http://pier.test' + fresh)
        self.assertStatus(self.admin('POST', purge), 401)
        self.assertStatus(self.admin('POST', purge, [('Authorization', 'Bearer wrong-token-xxxxxxx')]),
                          401)
        r = self.admin('POST', purge, [('Authorization', 'Bearer ' + TOKEN)])
        self.assertStatus(r, 200)
        self.assertEqual(json.loads(r.body), {'removed': 1})
        self.assertEqual(self.get(fresh).header('Cache-Status'), 'pier; fwd=miss; stored')
        # GETs stay open on loopback.
        self.assertStatus(self.admin('GET', '/metrics'), 200)

    def test_request_bodies_are_framed_like_the_proxy_frames_them(self):
        # Chunked or Content-Length, a body is read to its end and the next request on the
        # connection is answered; a broken chunked body gets 400, an oversized one 413.
        self.start_pier(self.cached_config())
        with Conn(self.pier.admin_port) as c:
            c.send(b'POST /api/cache/purge?prefix=http HTTP/1.1\r\nHost: a\r\n'
                   b'Transfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n0\r\nX-T: 1\r\n\r\n'
                   b'POST /api/cache/purge?prefix=http HTTP/1.1\r\nHost: a\r\n'
                   b'Content-Length: 2\r\n\r\nok'
                   b'GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n')
            self.assertStatus(c.read_response(), 401)  # no token configured: POSTs refused
            self.assertStatus(c.read_response(), 401)
            self.assertEqual(c.read_response().body, b'ok\n')
        with Conn(self.pier.admin_port) as c:
            c.send(b'POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n')
            self.assertStatus(c.read_response(), 400)
        with Conn(self.pier.admin_port) as c:
            # One byte over the admin API's 4 KiB, and nothing after it: nothing is left unread
            # when Pier closes (unread bytes would turn its close into a reset).
            c.send(b'POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n'
                   b'1001\r\n' + b'a' * 0x1001)
            self.assertStatus(c.read_response(), 413)

    def test_post_without_a_configured_token_is_refused(self):
        self.start_pier(self.cached_config())
        self.assertStatus(self.admin('POST', '/api/cache/purge?prefix=http'), 401)

    def test_non_loopback_without_a_token_refuses_to_start(self):
        config = make_config({'app': upstream(self.b1)}, admin={'address': '0.0.0.0:9901'})
        config['listeners'] = [{'address': '127.0.0.1:1'}]
        path = self.workdir / 'bad.yaml'
        path.write_text(to_yaml(config) + '\n')
        result = run_pier(['--check', str(path)])
        self.assertEqual(result.returncode, 1)
        self.assertRegex(result.stderr, r'bad\.yaml:\d+:\d+: admin: address 0\.0\.0\.0:9901 is not '
                                        r'loopback: set token_file')

    def test_a_non_loopback_address_needs_the_token_unless_reads_are_public(self):
        # Bound to every address (as in a container), reached here through 127.0.0.1.
        token_file = self.workdir / 'token'
        token_file.write_text(TOKEN + '\n')
        self.start_pier(self.cached_config(admin={'address': '0.0.0.0:%d' % free_port(),
                                                  'token_file': str(token_file)}))
        self.assertStatus(self.admin('GET', '/healthz'), 200)
        self.assertStatus(self.admin('GET', '/metrics'), 401)
        self.assertStatus(self.admin('GET', '/metrics', [('Authorization', 'Bearer ' + TOKEN)]),
                          200)

        self.start_pier(self.cached_config(admin={'address': '0.0.0.0:%d' % free_port(),
                                                  'public_reads': True}))
        self.assertStatus(self.admin('GET', '/metrics'), 200)
        self.assertStatus(self.admin('GET', '/'), 200)
        self.assertStatus(self.admin('POST', '/api/cache/purge?prefix=http'), 401)

    def test_the_healthcheck_flag_asks_the_running_pier(self):
        # What the container image's HEALTHCHECK runs: exit 0 while Pier is up, 1 once it is gone.
        pier = self.start_pier(self.cached_config(admin={'address': '0.0.0.0:%d' % free_port(),
                                                         'public_reads': True}))
        healthy = run_pier(['--config', str(pier.config_path), '--healthcheck'])
        self.assertEqual(healthy.returncode, 0, healthy.stderr)
        pier.expected_exit = True
        pier.stop()
        gone = run_pier(['--config', str(pier.config_path), '--healthcheck'])
        self.assertEqual(gone.returncode, 1)
        self.assertIn('healthcheck: 127.0.0.1:%d: connect: Connection refused' % pier.admin_port,
                      gone.stderr)

    def test_a_refused_head_is_counted_and_carries_nothing_of_the_previous_request(self):
        route = {'match': {'host': '*', 'path_prefix': '/'}, 'upstream': 'app',
                 'rate_limit': 'rl'}
        self.start_pier(make_config({'app': upstream(self.b1)}, routes=[route],
                                    rate_limits={'rl': {'rate': '100/s', 'headers': True}}))
        with self.connect() as c:
            first = c.get('/')
            self.assertIsNotNone(first.header('RateLimit'))
            c.send(b'NOT A REQUEST\r\n\r\n')
            refused = c.read_response()
        self.assertStatus(refused, 400)
        self.assertIsNone(refused.header('RateLimit'))
        self.assertIsNone(refused.header('X-Request-Id'))
        text = self.admin('GET', '/metrics').body.decode()
        self.assertIn('pier_requests_total{route="none",method="other",code="4xx"} 1', text)

    def test_dashboard_is_served_from_the_binary(self):
        self.start_pier(self.cached_config())
        for path, kind in (('/', 'text/html'), ('/app.js', 'text/javascript'),
                           ('/style.css', 'text/css')):
            r = self.admin('GET', path)
            self.assertStatus(r, 200)
            self.assertTrue(r.header('Content-Type').startswith(kind), path)
        self.assertIn(b'<script src="/app.js">', self.admin('GET', '/').body)


if __name__ == '__main__':
    unittest.main()
