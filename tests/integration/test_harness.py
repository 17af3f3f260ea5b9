"""The harness itself, against the demo backend directly (no pier).

When a pier test fails, this file passing says the harness and the demo backend are not the cause.
"""

import base64
import os
import signal
import time
import unittest

from harness import (Backend, IncompleteResponse, PierTestCase, connection_refused, expected_body,
                     free_port, http_request, make_config, to_yaml, upstream, ws_frame, ws_read_frame)


class HarnessTest(PierTestCase):

    def setUp(self):
        super().setUp()
        self.b = self.start_backend('hb')

    def test_backend_starts_reports_port_and_stops_by_pid(self):
        self.assertTrue(self.b.running())
        self.assertFalse(connection_refused(self.b.port))
        code, killed = self.b.stop()
        self.assertEqual((code, killed), (0, False))
        self.assertTrue(connection_refused(self.b.port))

    def test_backend_on_fixed_port(self):
        port = free_port()
        b = self.start_backend('fixed', port=port)
        self.assertEqual(b.port, port)
        self.assertEqual(http_request(port, 'GET', '/').body, b'fixed\n')

    def test_stats_and_control(self):
        s = self.b.stats()
        self.assertEqual((s['name'], s['requests']), ('hb', 0))
        self.b.control(fail=1)
        self.assertEqual(http_request(self.b.port, 'GET', '/').status, 503)
        self.b.control(fail=0, healthy=0)
        self.assertEqual(http_request(self.b.port, 'GET', '/healthz').status, 503)
        self.assertEqual(self.b.stats()['requests'], 2)

    def test_reads_content_length_chunked_trailers_and_close_delimited(self):
        with self.connect(self.b.port) as c:
            r = c.get('/?size=100000')
            self.assertEqual((r.framing, r.body), ('length', expected_body(100000)))
            r = c.get('/?size=200000&chunked=1&trailer=1')
            self.assertEqual((r.framing, r.body, r.trailer('X-Trailer')),
                             ('chunked', expected_body(200000), 'done'))
            r = c.roundtrip('HEAD', '/?size=5000')
            self.assertEqual((r.framing, r.header('Content-Length'), r.body), ('none', '5000', b''))
            r = c.get('/?status=204')
            self.assertEqual((r.status, r.framing), (204, 'none'))
            self.assertEqual(c.wait_closed(0.2), 'open')
        with self.connect(self.b.port) as c:
            c.send(b'GET /?size=1000&chunked=1 HTTP/1.0\r\n\r\n')
            r = c.read_response()
            self.assertEqual((r.framing, r.body), ('close', expected_body(1000)))
            self.assertEqual(c.wait_closed(1), 'closed')

    def test_pipelined_responses_and_expect_continue(self):
        with self.connect(self.b.port) as c:
            c.send(b'GET /?header=X-Seq:1&delay=100 HTTP/1.1\r\nHost: h\r\n\r\n'
                   b'GET /?header=X-Seq:2 HTTP/1.1\r\nHost: h\r\n\r\n')
            self.assertEqual([c.read_response().header('X-Seq') for _ in range(2)], ['1', '2'])
            c.send(b'POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n')
            self.assertEqual(c.read_response('POST', skip_interim=False).status, 100)
            c.send(b'hi')
            self.assertEqual(c.read_response('POST').body, b'hi')

    def test_incomplete_response_is_detected(self):
        with self.connect(self.b.port) as c:
            c.request('GET', '/?close=mid&size=10000')
            with self.assertRaises(IncompleteResponse) as caught:
                c.read_response()
            self.assertEqual(caught.exception.head.status, 200)
            self.assertEqual(caught.exception.received, 5000)

    def test_websocket_helpers(self):
        with self.connect(self.b.port) as c:
            c.request('GET', '/ws', [('Upgrade', 'websocket'), ('Connection', 'Upgrade'),
                                     ('Sec-WebSocket-Key', base64.b64encode(os.urandom(16)).decode()),
                                     ('Sec-WebSocket-Version', '13')])
            self.assertEqual(c.read_response().status, 101)
            c.send(ws_frame(0x2, b'x' * 70000))
            self.assertEqual(ws_read_frame(c), (True, 0x2, b'x' * 70000, False))

    def test_yaml_emitter(self):
        config = make_config({'app': upstream('127.0.0.1:1', ('127.0.0.1:2', 5), retry={'on': [502]})},
                             trusted_proxies=[])
        text = to_yaml(config)
        self.assertIn('trusted_proxies: []', text)
        self.assertIn('      - address: "127.0.0.1:2"\n        weight: 5', text)
        self.assertIn('    retry:\n      on:\n        - 502', text)
        self.assertIn('  - match:\n      host: "*"', text)

    def test_sigterm_stops_backend_promptly(self):
        b = Backend(self.workdir, 'extra')
        try:
            t0 = time.monotonic()
            b.signal(signal.SIGTERM)
            self.assertEqual(b.wait(5), 0)
            self.assertLess(time.monotonic() - t0, 3)
        finally:
            b.stop(2)


if __name__ == '__main__':
    unittest.main()
