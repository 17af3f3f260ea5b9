"""The access log and request ids: one JSON line per request with the fields an operator needs
(for a cache hit, a miss, a retry, a 429 and a 502), the combined format, SIGUSR1 reopening the
file, and X-Request-Id kept, generated, passed to the backend and returned.
"""

import json
import re
import signal
import unittest

from harness import PierTestCase, make_config, upstream, wait_for


class AccessLogTest(PierTestCase):

    def setUp(self):
        super().setUp()
        self.log_path = self.workdir / 'access.log'

    def lines(self, path=None):
        path = path or self.log_path
        try:
            return [l for l in path.read_text().splitlines() if l]
        except FileNotFoundError:
            return []

    def wait_lines(self, n, path=None):
        wait_for(lambda: len(self.lines(path)) >= n, 5, message='%d access-log lines' % n)
        return [json.loads(l) for l in self.lines(path)]

    def test_fields_for_a_miss_a_hit_a_retry_a_429_and_a_502(self):
        b1, b2 = self.start_backends('b1', 'b2')
        route = {'match': {'host': '*', 'path_prefix': '/'}, 'upstream': 'app', 'cache': 'c',
                 'rate_limit': 'rl'}
        self.start_pier(make_config(
            {'app': upstream(b1, b2, retry={'attempts': 2, 'backoff': '1ms..2ms'})},
            routes=[route], caches={'c': {}}, rate_limits={'rl': {'rate': '1/m', 'burst': 5}},
            access_log={'path': str(self.log_path), 'format': 'json'}))
        target = '/page?header=Cache-Control:max-age=60'
        self.get(target, [('User-Agent', 'test-agent/1.0')])            # miss
        self.get(target)                                                 # hit
        b1.control(fail=1)
        self.get('/flaky')  # round robin: b1 answers 503 at some point, and is retried on b2
        self.get('/flaky2')
        b2.control(fail=1)
        self.get('/both-down')                                           # 503 after a retry
        self.get('/limited')                                             # 429 (6th request)
        recs = self.wait_lines(6)
        expected_keys = {'time', 'request_id', 'client', 'method', 'host', 'path', 'protocol',
                         'status', 'bytes_in', 'bytes_out', 'duration_ms', 'upstream',
                         'upstream_connect_ms', 'upstream_header_ms', 'attempts', 'cache',
                         'rate_limit', 'user_agent'}
        for rec in recs:
            self.assertEqual(set(rec), expected_keys)
            self.assertRegex(rec['time'], r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$')
            self.assertRegex(rec['request_id'], r'^[0-9a-f]{32}$')
            self.assertEqual((rec['client'], rec['method'], rec['host'], rec['protocol']),
                             ('127.0.0.1', 'GET', 'pier.test', 'HTTP/1.1'))
            self.assertGreater(rec['bytes_in'], 0)
            self.assertGreater(rec['bytes_out'], 0)
        miss, hit = recs[0], recs[1]
        self.assertEqual((miss['path'], miss['status'], miss['cache'], miss['attempts'],
                          miss['rate_limit'], miss['user_agent']),
                         (target, 200, 'fwd=miss; stored', 1, 'allowed', 'test-agent/1.0'))
        self.assertIn(miss['upstream'], (b1.address, b2.address))
        self.assertIsNotNone(miss['upstream_header_ms'])
        self.assertEqual((hit['status'], hit['upstream'], hit['attempts']), (200, '', 0))
        self.assertTrue(hit['cache'].startswith('hit; ttl='))
        retried = [r for r in recs[2:4] if r['attempts'] == 2]
        self.assertEqual(len(retried), 1, recs[2:4])
        self.assertEqual((retried[0]['status'], retried[0]['upstream']), (200, b2.address))
        down = recs[4]
        self.assertEqual((down['path'], down['status'], down['attempts']), ('/both-down', 503, 2))
        limited = recs[5]
        self.assertEqual((limited['status'], limited['rate_limit'], limited['upstream']),
                         (429, 'limited', ''))

    def test_a_502_is_logged_with_its_upstream(self):
        b1 = self.start_backend('b1')
        self.start_pier(make_config({'app': upstream(b1, retry={'attempts': 1})},
                                    access_log={'path': str(self.log_path)}))
        r = self.get('/?bad=1', [('X-Request-Id', 'trace-502')])
        self.assertStatus(r, 502)
        self.assertEqual(r.header('X-Request-Id'), 'trace-502')  # Pier's own errors carry it too
        rec = self.wait_lines(1)[0]
        self.assertEqual((rec['status'], rec['upstream'], rec['attempts'], rec['request_id']),
                         (502, b1.address, 1, 'trace-502'))

    def test_combined_format(self):
        b1 = self.start_backend('b1')
        self.start_pier(make_config({'app': upstream(b1)},
                                    access_log={'path': str(self.log_path),
                                                'format': 'combined'}))
        self.get('/c?x=1', [('User-Agent', 'ua "quoted"'), ('Referer', 'http://r/')])
        wait_for(lambda: self.lines(), 5, message='a combined line')
        self.assertRegex(self.lines()[0],
                         r'^127\.0\.0\.1 - - \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d \+0000\] '
                         r'"GET /c\?x=1 HTTP/1\.1" 200 \d+ "http://r/" "ua \\x22quoted\\x22" '
                         r'"[0-9a-f]{32}" \d+\.\d{3}$')

    def test_sigusr1_reopens_the_file(self):
        b1 = self.start_backend('b1')
        self.start_pier(make_config({'app': upstream(b1)},
                                    access_log={'path': str(self.log_path)}))
        self.get('/before')
        self.wait_lines(1)
        rotated = self.workdir / 'access.log.1'
        self.log_path.rename(rotated)
        self.pier.proc.send_signal(signal.SIGUSR1)  # by PID; the pier keeps running
        wait_for(lambda: 'reopening the access log' in self.pier.stderr_text(), 5,
                 message='SIGUSR1 handled')
        self.get('/after')
        recs = self.wait_lines(1)
        self.assertEqual([r['path'] for r in recs], ['/after'])
        self.assertEqual([json.loads(l)['path'] for l in self.lines(rotated)], ['/before'])
        self.assertTrue(self.pier.running())

    def test_request_id_kept_generated_passed_on_and_returned(self):
        b1 = self.start_backend('b1')
        self.start_pier(make_config({'app': upstream(b1)},
                                    access_log={'path': str(self.log_path)}))
        r = self.get('/headers', [('X-Request-Id', 'client-id.42')])
        self.assertEqual(r.header('X-Request-Id'), 'client-id.42')
        seen = [v for n, v in json.loads(r.body)['headers'] if n.lower() == 'x-request-id']
        self.assertEqual(seen, ['client-id.42'])
        made = self.get('/headers')
        self.assertRegex(made.header('X-Request-Id'), r'^[0-9a-f]{32}$')
        seen = [v for n, v in json.loads(made.body)['headers'] if n.lower() == 'x-request-id']
        self.assertEqual(seen, [made.header('X-Request-Id')])
        bad = self.get('/headers', [('X-Request-Id', 'bad id with spaces')])
        self.assertRegex(bad.header('X-Request-Id'), r'^[0-9a-f]{32}$')
        self.assertEqual(len(bad.header_values('X-Request-Id')), 1)
        ids = [rec['request_id'] for rec in self.wait_lines(3)]
        self.assertEqual(ids, ['client-id.42', made.header('X-Request-Id'),
                               bad.header('X-Request-Id')])

    def test_generated_ids_differ_between_the_piers_of_a_fleet(self):
        # The Piers of a fleet (or one Pier restarted) must not hand out the same ids: each
        # worker seeds its generator from the kernel. These three once gave the same sequence.
        b1 = self.start_backend('b1')
        config = make_config({'app': upstream(b1)})
        first = [self.start_pier(config) for _ in range(3)]
        def made_id(pier):
            with self.connect(pier.port) as c:
                return c.get('/').header('X-Request-Id')
        ids = [made_id(p) for p in first] + [made_id(p) for p in first]
        self.assertEqual(len(set(ids)), len(ids), ids)


if __name__ == '__main__':
    unittest.main()
