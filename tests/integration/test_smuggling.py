"""Request smuggling and response splitting: what Pier forwards is exactly what it parsed.

Raw-socket clients send crafted messages through Pier to a strict backend that records every byte
it receives (recording_backend.py). Each test asserts either a refusal (the right 4xx, a clean
close, and no request at the backend) or that the backend received exactly the canonical bytes.
Hostile responses go the other way: a backend sending odd framing, and a raw client reading
exactly what Pier sends on.
"""

import socket
import time

from harness import PierTestCase, make_config, upstream, wait_for
from recording_backend import RecordingBackend, parse_request

HEAD = b'POST / HTTP/1.1\r\nHost: pier.test\r\n'


class SmugglingTest(PierTestCase):

    def setUp(self):
        super().setUp()
        self.backend = RecordingBackend()
        self.addCleanup(self.backend.stop)
        self.start_pier(make_config({'app': upstream(self.backend.address)},
                                    http={'request_head_timeout': '10s'}))

    def send_raw(self, data):
        """Sends `data` in one write; returns (response, connection)."""
        c = self.connect()
        self.addCleanup(c.close)
        c.send(data)
        return c.read_response(), c

    def assertRefused(self, data, status):
        r, c = self.send_raw(data)
        self.assertStatus(r, status)
        self.assertClosedCleanly(c)
        time.sleep(0.1)
        self.assertEqual(self.backend.requests, [], 'a refused request reached the backend')
        self.assertEqual(self.backend.errors, [], 'the backend read something it could not parse')

    def forwarded(self, data, count=1):
        """Sends `data`; waits for `count` requests at the backend and returns them."""
        r, c = self.send_raw(data)
        self.assertStatus(r, 200)
        wait_for(lambda: len(self.backend.requests) >= count, 5, message='requests at the backend')
        self.assertEqual(self.backend.errors, [])
        return self.backend.requests

    # -- Connection naming a framing or routing field

    def test_connection_naming_content_length_is_400_and_smuggles_nothing(self):
        # Before the fix Pier dropped Content-Length as hop-by-hop but framed the body by it, so the
        # backend took the body for a second request.
        smuggled = b'GET /smuggled HTTP/1.1\r\nHost: pier.test\r\n\r\n'
        self.assertRefused(HEAD + b'Content-Length: %d\r\nConnection: Content-Length\r\n\r\n'
                           % len(smuggled) + smuggled, 400)

    def test_connection_naming_transfer_encoding_or_host_is_400(self):
        self.assertRefused(HEAD + b'Transfer-Encoding: chunked\r\nConnection: transfer-encoding\r\n'
                           b'\r\n0\r\n\r\n', 400)
        self.assertRefused(b'GET / HTTP/1.1\r\nHost: pier.test\r\nConnection: close, Host\r\n\r\n', 400)

    def test_connection_naming_another_field_removes_only_that_field(self):
        reqs = self.forwarded(b'GET / HTTP/1.1\r\nHost: pier.test\r\nX-Hop: 1\r\nX-End: 2\r\n'
                              b'Connection: X-Hop\r\n\r\n')
        self.assertIsNone(reqs[0].header(b'X-Hop'))
        self.assertEqual(reqs[0].header(b'X-End'), b'2')

    # -- chunk-size lines outside RFC 9112 §7.1

    def test_chunk_size_with_trailing_whitespace_is_400(self):
        self.assertRefused(HEAD + b'Transfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n', 400)

    def test_chunk_extension_with_empty_name_is_400(self):
        self.assertRefused(HEAD + b'Transfer-Encoding: chunked\r\n\r\n5;\r\nhello\r\n0\r\n\r\n', 400)

    def test_chunk_extension_with_bare_whitespace_or_bad_quote_is_400(self):
        for line in (b'5;a \r\n', b'5;a="x\r\n', b'5;a=b c\r\n'):
            with self.subTest(line=line):
                self.assertRefused(HEAD + b'Transfer-Encoding: chunked\r\n\r\n' + line +
                                   b'hello\r\n0\r\n\r\n', 400)

    def test_valid_chunked_body_is_re_encoded_canonically(self):
        body = (b'005;name=value\r\nhello\r\n'
                b'6 ; q="a;b"\r\n world\r\n'
                b'0;last\r\nX-Checksum: abc\r\n\r\n')
        reqs = self.forwarded(HEAD + b'Transfer-Encoding: chunked\r\n\r\n' + body)
        self.assertEqual(reqs[0].body, b'hello world')
        self.assertEqual(reqs[0].chunk_lines, [b'5\r\n', b'6\r\n', b'0\r\n'])
        self.assertEqual(reqs[0].trailers, [(b'X-Checksum', b'abc')])
        raw = self.backend.all_bytes()
        self.assertTrue(raw.endswith(b'\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\nX-Checksum: abc\r\n\r\n'),
                        raw)

    def test_chunked_body_streamed_in_pieces_is_re_encoded(self):
        c = self.connect()
        self.addCleanup(c.close)
        c.send(HEAD + b'Transfer-Encoding: chunked\r\n\r\n')
        pieces = [b'3;x=1\r\nabc\r\n', b'4\r\nde', b'fg\r\n0\r\nX-T', b'ail: 1\r\n', b'\r\n']
        for p in pieces:
            time.sleep(0.05)
            c.send(p)
        self.assertStatus(c.read_response(), 200)
        wait_for(lambda: self.backend.requests, 5, message='the request at the backend')
        req = self.backend.requests[0]
        self.assertEqual(req.body, b'abcdefg')
        self.assertEqual(req.trailers, [(b'X-Tail', b'1')])
        self.assertEqual(self.backend.errors, [])

    # -- trailer fields forbidden in trailers (RFC 9110 §6.5.1)

    def test_forbidden_request_trailers_are_dropped_and_others_kept(self):
        trailers = (b'Content-Length: 100\r\nTransfer-Encoding: chunked\r\nHost: evil.test\r\n'
                    b'Authorization: Basic eA==\r\nSet-Cookie: a=b\r\nContent-Type: text/evil\r\n'
                    b'Content-Encoding: gzip\r\nContent-Range: bytes 0-1/2\r\nTrailer: X\r\n'
                    b'Cache-Control: no-store\r\nExpect: 100-continue\r\nMax-Forwards: 0\r\n'
                    b'TE: trailers\r\nX-Checksum: abc\r\nServer-Timing: db;dur=1\r\n')
        reqs = self.forwarded(HEAD + b'Transfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n' +
                              trailers + b'\r\n')
        self.assertEqual(reqs[0].trailers, [(b'X-Checksum', b'abc'), (b'Server-Timing', b'db;dur=1')])

    # -- the HTTP/0.9 request line

    def test_request_line_without_version_is_400_at_once(self):
        start = time.monotonic()
        r, c = self.send_raw(b'GET /path\r\n')
        self.assertStatus(r, 400)
        self.assertClosedCleanly(c)
        # The head timeout is 10 s: an answer well before it came from the request line alone.
        self.assertLess(time.monotonic() - start, 5.0)
        self.assertEqual(self.backend.requests, [])

    # -- what reaches the backend parses strictly, and only as many requests as the client framed

    def test_pipelined_requests_arrive_as_framed(self):
        data = (HEAD + b'Content-Length: 5\r\n\r\nhello' +
                HEAD + b'Transfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n' +
                b'GET /last HTTP/1.1\r\nHost: pier.test\r\n\r\n')
        c = self.connect()
        self.addCleanup(c.close)
        c.send(data)
        for _ in range(3):
            self.assertStatus(c.read_response(), 200)
        wait_for(lambda: len(self.backend.requests) >= 3, 5, message='three requests')
        self.assertEqual([r.body for r in self.backend.requests], [b'hello', b'x', b''])
        self.assertEqual(self.backend.requests[2].target, b'/last')
        self.assertEqual(len(self.backend.requests), 3)


class HostileResponseTest(PierTestCase):
    """A backend with odd or malformed response framing, read by a raw client."""

    def start(self, response):
        self.backend = RecordingBackend(response)
        self.addCleanup(self.backend.stop)
        self.start_pier(make_config({'app': upstream(self.backend.address)}))

    def raw_exchange(self):
        """GET / on a raw socket; returns everything Pier sent until it closed or went quiet."""
        s = socket.create_connection(('127.0.0.1', self.pier.port), timeout=5)
        self.addCleanup(s.close)
        s.sendall(b'GET / HTTP/1.1\r\nHost: pier.test\r\nConnection: close\r\n\r\n')
        out = b''
        try:
            while True:
                data = s.recv(65536)
                if not data:
                    break
                out += data
        except socket.timeout:
            pass
        return out

    def test_response_chunks_are_re_encoded_and_forbidden_trailers_dropped(self):
        self.start(b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n'
                   b'05;ext=1\r\nhello\r\n0\r\nX-Sum: 1\r\nSet-Cookie: evil=1\r\n'
                   b'Content-Length: 99\r\n\r\n')
        out = self.raw_exchange()
        head, _, body = out.partition(b'\r\n\r\n')
        self.assertIn(b'Transfer-Encoding: chunked', head)
        self.assertEqual(body, b'5\r\nhello\r\n0\r\nX-Sum: 1\r\n\r\n')

    def test_invalid_response_chunk_line_is_502(self):
        self.start(b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n')
        out = self.raw_exchange()
        self.assertTrue(out.startswith(b'HTTP/1.1 502 '), out)
        self.assertNotIn(b'hello', out)

    def test_response_connection_naming_content_length_is_502(self):
        self.start(b'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: Content-Length\r\n\r\nhello')
        out = self.raw_exchange()
        self.assertTrue(out.startswith(b'HTTP/1.1 502 '), out)

    def test_response_without_status_line_is_502_at_once(self):
        self.start(b'hello world\r\n')  # and then the backend keeps the connection open
        start = time.monotonic()
        out = self.raw_exchange()
        self.assertTrue(out.startswith(b'HTTP/1.1 502 '), out)
        self.assertLess(time.monotonic() - start, 5.0)  # response_header timeout: 15 s


class RecordingBackendTest(PierTestCase):
    """The oracle itself must refuse what it should: otherwise the tests above cannot fail."""

    def test_strict_parser_refuses_what_pier_refuses(self):
        for bad in (b'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n',
                    b'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;\r\nhello\r\n0\r\n\r\n',
                    b'GET /path\r\n\r\n'):
            with self.subTest(bad=bad):
                with self.assertRaises(Exception) as e:
                    parse_request(bad)
                self.assertEqual(type(e.exception).__name__, 'Malformed')
        message = (b'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n'
                   b'5;a="b"\r\nhello\r\n0\r\nX: 1\r\n\r\n')
        req, used = parse_request(message + b'next')
        self.assertEqual((req.body, req.trailers, used), (b'hello', [(b'X', b'1')], len(message)))
