"""HTTP/1.1 rules a proxy must get right (docs: shared DESIGN.md, "HTTP/1.1 rules")."""

import base64
import hashlib
import json
import os
import time
import unittest

from harness import (PierTestCase, expected_body, make_config, upstream, ws_frame, ws_read_frame)


class HttpRulesTest(PierTestCase):

    def setUp(self):
        super().setUp()
        self.b1 = self.start_backend('b1')

    def start(self, **top):
        return self.start_pier(make_config({'app': upstream(self.b1)}, **top))

    # -- persistence

    def test_client_keepalive_serves_many_requests_on_one_connection(self):
        self.start()
        with self.connect() as c:
            for i in range(20):
                r = c.get('/?i=%d' % i)
                self.assertStatus(r, 200)
                self.assertEqual(r.body, b'b1\n')
            self.assertEqual(c.wait_closed(0.3), 'open', 'pier closed a keep-alive connection')

    def test_backend_connection_is_kept_alive_between_requests(self):
        self.start()
        before = self.b1.stats()['connections']
        with self.connect() as c:
            for _ in range(10):
                self.assertStatus(c.get('/'), 200)
        # +1: the second /stats call's own connection.
        self.assertEqual(self.b1.stats()['connections'] - before, 1 + 1,
                         '10 sequential requests should reuse one backend connection')

    def test_client_connection_close_is_honoured(self):
        self.start()
        with self.connect() as c:
            r = c.get('/', [('Connection', 'close')])
            self.assertStatus(r, 200)
            self.assertEqual(r.body, b'b1\n')
            self.assertIn('close', ','.join(r.header_values('Connection')).lower())
            self.assertClosedCleanly(c)

    def test_idle_client_connection_is_closed_after_keepalive_timeout(self):
        self.start(http={'keepalive_timeout': '1s'})
        with self.connect() as c:
            self.assertStatus(c.get('/'), 200)
            t0 = time.monotonic()
            how = c.wait_closed(6.0)
            elapsed = time.monotonic() - t0
        self.assertEqual(how, 'closed')
        self.assertGreater(elapsed, 0.5, 'closed long before keepalive_timeout')
        self.assertLess(elapsed, 4.0, 'not closed within a few seconds of keepalive_timeout 1s')

    def test_connection_idle_between_requests_keeps_serving(self):
        # Idle for longer than a deadline tick, a keep-alive connection is parked (its session and
        # buffers freed); the next request on it must be served as if nothing happened, and the
        # idle time must not count against the request-head timeout of the next request.
        self.start(http={'keepalive_timeout': '5s', 'request_head_timeout': '1s'})
        with self.connect() as c:
            for i in range(3):
                self.assertStatus(c.get('/?i=%d' % i), 200)
                time.sleep(1.3)
            c.send(b'GET /?split=1 HTTP/1.1\r\nHo')
            time.sleep(0.3)
            c.send(b'st: pier.test\r\n\r\n')
            self.assertStatus(c.read_response(), 200)

    def test_http10_client_gets_response_then_close(self):
        self.start()
        with self.connect() as c:
            c.send(b'GET / HTTP/1.0\r\nHost: pier.test\r\n\r\n')
            r = c.read_response()
            self.assertStatus(r, 200)
            self.assertEqual(r.body, b'b1\n')
            self.assertClosedCleanly(c)

    def test_http10_client_gets_chunked_upstream_response_dechunked(self):
        self.start()
        size = 300000
        with self.connect() as c:
            c.send(b'GET /?size=%d&chunked=1 HTTP/1.0\r\nHost: pier.test\r\n\r\n' % size)
            r = c.read_response()
            self.assertStatus(r, 200)
            self.assertIsNone(r.header('Transfer-Encoding'),
                              'an HTTP/1.0 client must not get Transfer-Encoding')
            self.assertEqual(len(r.body), size)
            self.assertEqual(r.body, expected_body(size))
            self.assertClosedCleanly(c)

    # -- pipelining

    def test_pipelined_requests_are_answered_in_order(self):
        self.start()
        with self.connect() as c:
            # The first is slow, so a proxy answering as responses come in would reorder them; the
            # second has a body, so a proxy that frames pipelined requests wrongly would garble it.
            c.send(b'GET /?delay=300&header=X-Seq:1 HTTP/1.1\r\nHost: pier.test\r\n\r\n'
                   b'POST /echo?header=X-Seq:2 HTTP/1.1\r\nHost: pier.test\r\n'
                   b'Content-Length: 11\r\n\r\nsecond body'
                   b'GET /?header=X-Seq:3 HTTP/1.1\r\nHost: pier.test\r\n\r\n')
            r1 = c.read_response()
            r2 = c.read_response('POST')
            r3 = c.read_response()
        self.assertEqual([r.header('X-Seq') for r in (r1, r2, r3)], ['1', '2', '3'])
        self.assertEqual([r.status for r in (r1, r2, r3)], [200, 200, 200])
        self.assertEqual(r1.body, b'b1\n')
        self.assertEqual(r2.body, b'second body')
        self.assertEqual(r3.body, b'b1\n')

    # -- bodies and framing

    def test_head_response_has_no_body(self):
        self.start()
        with self.connect() as c:
            r = c.roundtrip('HEAD', '/?size=5000')
            self.assertStatus(r, 200)
            self.assertEqual(r.header('Content-Length'), '5000')
            # If pier sent (or waited for) a body, the next response on the connection would
            # not parse or not arrive.
            self.assertEqual(c.wait_closed(0.3), 'open',
                             'bytes or close after a HEAD response: %r' % bytes(c.buf[:100]))
            r2 = c.get('/')
            self.assertStatus(r2, 200)
            self.assertEqual(r2.body, b'b1\n')

    def test_204_and_304_responses_have_no_body(self):
        self.start()
        with self.connect() as c:
            r = c.get('/?status=204')
            self.assertStatus(r, 204)
            r = c.get('/?status=304')
            self.assertStatus(r, 304)
            self.assertEqual(c.wait_closed(0.3), 'open', 'bytes or close after 204/304: %r'
                             % bytes(c.buf[:100]))
            r = c.get('/')
            self.assertStatus(r, 200)
            self.assertEqual(r.body, b'b1\n')

    def test_expect_100_continue_gets_interim_response_then_final(self):
        self.start()
        with self.connect() as c:
            c.send(b'POST /echo HTTP/1.1\r\nHost: pier.test\r\nContent-Length: 5\r\n'
                   b'Expect: 100-continue\r\n\r\n')
            c.settimeout(5)
            interim = c.read_response('POST', skip_interim=False)
            self.assertEqual(interim.status, 100, 'expected 100 Continue before sending the body')
            c.send(b'hello')
            r = c.read_response('POST')
            self.assertStatus(r, 200)
            self.assertEqual(r.body, b'hello')
            # The connection stays usable.
            self.assertEqual(c.get('/').body, b'b1\n')

    def test_chunked_response_with_trailers_passes_through(self):
        self.start()
        size = 200000
        with self.connect() as c:
            r = c.get('/?size=%d&chunked=1&trailer=1' % size, [('TE', 'trailers')])
            self.assertStatus(r, 200)
            self.assertEqual(r.framing, 'chunked')
            self.assertEqual(r.body, expected_body(size))
            self.assertEqual(r.trailer('X-Trailer'), 'done')
            self.assertEqual(c.get('/').body, b'b1\n')

    def test_chunked_request_with_trailers_is_forwarded(self):
        self.start()
        with self.connect() as c:
            c.send(b'POST /echo HTTP/1.1\r\nHost: pier.test\r\nTransfer-Encoding: chunked\r\n'
                   b'Trailer: X-Checksum\r\n\r\n'
                   b'5\r\nhello\r\n6\r\n world\r\n0\r\nX-Checksum: abc123\r\n\r\n')
            r = c.read_response('POST')
            self.assertStatus(r, 200)
            self.assertEqual(r.body, b'hello world')
            # The trailer section was consumed as part of the request, not taken for a new one.
            self.assertEqual(c.get('/').body, b'b1\n')

    def test_content_length_response_keeps_content_length(self):
        self.start()
        with self.connect() as c:
            r = c.get('/?size=100000')
            self.assertStatus(r, 200)
            self.assertEqual(r.framing, 'length')
            self.assertEqual(r.header('Content-Length'), '100000')
            self.assertEqual(r.body, expected_body(100000))

    # -- Upgrade

    def test_websocket_echo_through_proxy(self):
        self.start()
        key = base64.b64encode(os.urandom(16)).decode()
        accept = base64.b64encode(hashlib.sha1(
            (key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').encode()).digest()).decode()
        with self.connect() as c:
            c.request('GET', '/ws', [('Upgrade', 'websocket'), ('Connection', 'Upgrade'),
                                     ('Sec-WebSocket-Key', key), ('Sec-WebSocket-Version', '13')])
            r = c.read_response()
            self.assertStatus(r, 101)
            self.assertEqual(r.header('Sec-WebSocket-Accept'), accept)
            self.assertEqual((r.header('Upgrade') or '').lower(), 'websocket',
                             'Upgrade must be forwarded on a 101')
            self.assertIn('upgrade', (r.header('Connection') or '').lower())

            c.send(ws_frame(0x1, b'hello pier'))
            fin, opcode, payload, masked = ws_read_frame(c)
            self.assertEqual((fin, opcode, payload, masked), (True, 0x1, b'hello pier', False))

            big = os.urandom(70000)   # 64-bit length field, several TCP segments
            c.send(ws_frame(0x2, big))
            fin, opcode, payload, masked = ws_read_frame(c)
            self.assertEqual((fin, opcode, len(payload)), (True, 0x2, len(big)))
            self.assertEqual(payload, big)

            c.send(ws_frame(0x9, b'ping!'))
            self.assertEqual(ws_read_frame(c)[1:3], (0xA, b'ping!'))

            c.send(ws_frame(0x8, b'\x03\xe8'))   # close, 1000
            fin, opcode, payload, _ = ws_read_frame(c)
            self.assertEqual((opcode, payload), (0x8, b'\x03\xe8'))
            self.assertIn(c.wait_closed(5), ('closed', 'reset'))

    def test_upgrade_ignored_by_backend_continues_as_http(self):
        # A WebSocket upgrade request to a plain path: the backend answers 200 as usual (no 101),
        # so there is no tunnel and the client connection must go on as HTTP/1.1.
        self.start()
        with self.connect() as c:
            r = c.get('/', [('Upgrade', 'websocket'), ('Connection', 'Upgrade'),
                            ('Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='),
                            ('Sec-WebSocket-Version', '13')])
            self.assertStatus(r, 200)
            self.assertEqual(r.body, b'b1\n')
            r = c.get('/?header=X-Second:1')
            self.assertStatus(r, 200)
            self.assertEqual(r.header('X-Second'), '1')
            self.assertEqual(r.body, b'b1\n')


if __name__ == '__main__':
    unittest.main()
