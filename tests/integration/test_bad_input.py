"""Malformed and hostile input, from clients and from backends.

Every client-side case checks: the status, that pier then closes the connection cleanly (FIN, so
recv returns b'' after the response, not a reset), that nothing reached the backend when the
problem is in the request head, and that pier still serves a normal request afterwards.
"""

import time
import unittest

from harness import IncompleteResponse, PierTestCase, make_config, upstream

HEAD = b'POST / HTTP/1.1\r\nHost: pier.test\r\n'


class BadClientInputTest(PierTestCase):

    def setUp(self):
        super().setUp()
        self.b1 = self.start_backend('b1')
        self.start_pier(make_config(
            {'app': upstream(self.b1)},
            http={
                'max_request_line': '1KiB',
                'max_header_bytes': '4KiB',
                'max_headers': 20,
                'max_body': '1KiB',
                'request_head_timeout': '1s',
            }))

    def assertRejected(self, data, status, head_only=True, statuses=None):
        """Send `data` in one write; expect `status` (or one of `statuses`), then a clean close.

        head_only: the problem is in the request head, so the backend must not have seen a request.
        """
        before = self.b1.stats()['requests']
        with self.connect() as c:
            c.send(data)
            r = c.read_response()
            if statuses:
                self.assertIn(r.status, statuses, r.raw_head.decode('latin-1'))
            else:
                self.assertStatus(r, status)
            self.assertIsNone(r.header('X-Backend'), 'the backend answered a request pier should reject')
            self.assertClosedCleanly(c)
        if head_only:
            self.assertEqual(self.b1.stats()['requests'], before,
                             'a request with a bad head was forwarded to the backend')
        self.assertStillServes()
        return r

    def assertStillServes(self):
        r = self.get('/')
        self.assertStatus(r, 200)
        self.assertEqual(r.body, b'b1\n')

    # -- request line and head syntax

    def test_garbage_request_line_is_400(self):
        self.assertRejected(b'NOT-HTTP garbage here\r\n\r\n', 400)

    def test_binary_garbage_is_400(self):
        self.assertRejected(b'\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n', 400)

    def test_unsupported_http_version_is_rejected(self):
        self.assertRejected(b'GET / HTTP/2.7\r\nHost: pier.test\r\n\r\n', None, statuses=(400, 505))

    def test_http11_request_without_host_is_400(self):
        self.assertRejected(b'GET / HTTP/1.1\r\nUser-Agent: t\r\n\r\n', 400)

    def test_http11_request_with_two_host_headers_is_400(self):
        self.assertRejected(b'GET / HTTP/1.1\r\nHost: a.test\r\nHost: b.test\r\n\r\n', 400)

    def test_whitespace_before_colon_is_400(self):
        self.assertRejected(b'GET / HTTP/1.1\r\nHost: pier.test\r\nX-Foo : bar\r\n\r\n', 400)

    def test_obs_fold_is_400(self):
        self.assertRejected(b'GET / HTTP/1.1\r\nHost: pier.test\r\nX-Foo: bar\r\n  folded\r\n\r\n', 400)

    def test_bare_cr_in_head_is_400(self):
        self.assertRejected(b'GET / HTTP/1.1\r\nHost: pier.test\r\nX-Foo: a\rb\r\n\r\n', 400)

    def test_nul_in_head_is_400(self):
        self.assertRejected(b'GET / HTTP/1.1\r\nHost: pier.test\r\nX-Foo: a\x00b\r\n\r\n', 400)

    def test_header_name_with_invalid_character_is_400(self):
        self.assertRejected(b'GET / HTTP/1.1\r\nHost: pier.test\r\nX(Foo): a\r\n\r\n', 400)

    # -- smuggling: body framing

    def test_content_length_with_transfer_encoding_is_400(self):
        # Head only: the body would be ambiguous, which is the point.
        self.assertRejected(HEAD + b'Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n', 400)

    def test_differing_duplicate_content_length_is_400(self):
        self.assertRejected(HEAD + b'Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello', 400)

    def test_differing_content_length_list_is_400(self):
        self.assertRejected(HEAD + b'Content-Length: 5, 6\r\n\r\nhello', 400)

    def test_non_numeric_content_length_is_400(self):
        self.assertRejected(HEAD + b'Content-Length: +5\r\n\r\nhello', 400)

    def test_transfer_encoding_gzip_then_chunked_is_rejected(self):
        # RFC-valid framing, but pier implements no transfer coding other than chunked and must
        # not forward a body it cannot frame: 400 (pier's rule: TE must be exactly chunked) or
        # 501 (RFC 9112 section 6.1's answer to an unknown coding) are both refusals.
        self.assertRejected(HEAD + b'Transfer-Encoding: gzip, chunked\r\n\r\n', None,
                            statuses=(400, 501))

    def test_transfer_encoding_chunked_then_gzip_is_400(self):
        # chunked not last: the body length cannot be determined at all.
        self.assertRejected(HEAD + b'Transfer-Encoding: chunked, gzip\r\n\r\n', 400)

    def test_transfer_encoding_chunked_twice_is_400(self):
        self.assertRejected(HEAD + b'Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n',
                            400)

    def test_invalid_chunk_size_is_400(self):
        self.assertRejected(HEAD + b'Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n', 400,
                            head_only=False)

    def test_chunk_size_with_0x_prefix_is_400(self):
        # strtoul(..., 16) would accept "0x5"; the grammar (1*HEXDIG) does not.
        self.assertRejected(HEAD + b'Transfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n', 400,
                            head_only=False)

    def test_chunk_data_longer_than_chunk_size_is_400(self):
        self.assertRejected(HEAD + b'Transfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n', 400,
                            head_only=False)

    # -- limits

    def test_request_line_too_long_is_414(self):
        self.assertRejected(b'GET /' + b'a' * 1500 + b' HTTP/1.1\r\nHost: pier.test\r\n\r\n', 414)

    def test_too_many_headers_is_431(self):
        fields = b''.join(b'X-H%d: v\r\n' % i for i in range(30))
        self.assertRejected(b'GET / HTTP/1.1\r\nHost: pier.test\r\n' + fields + b'\r\n', 431)

    def test_header_section_too_large_is_431(self):
        self.assertRejected(b'GET / HTTP/1.1\r\nHost: pier.test\r\nX-Big: ' + b'v' * 6000 + b'\r\n\r\n',
                            431)

    def test_content_length_over_max_body_is_413(self):
        # Only the head is sent: pier knows from Content-Length alone, and must not forward it.
        # Afterwards pier either closes the connection (cleanly), or reads and discards the
        # announced body (then closes or keeps the connection). The body, which looks like a
        # request, must never be taken for one (that would be request smuggling).
        before = self.b1.stats()['requests']
        answered_after = 0
        with self.connect() as c:
            c.send(HEAD + b'Content-Length: 2048\r\n\r\n')
            r = c.read_response()
            self.assertStatus(r, 413)
            self.assertIsNone(r.header('X-Backend'))
            how = c.wait_closed(1.0)
            self.assertIn(how, ('closed', 'open'), 'after 413: %s %r' % (how, bytes(c.buf[:100])))
            if how == 'open':
                smuggled = b'GET /?header=X-Smuggled:1 HTTP/1.1\r\nHost: pier.test\r\n\r\n'
                c.send(smuggled.ljust(2048, b'#') +
                       b'GET /?header=X-After:1 HTTP/1.1\r\nHost: pier.test\r\n\r\n')
                try:
                    r = c.read_response()
                except IncompleteResponse as e:
                    self.assertIsNone(e.head, 'truncated response after 413: %s' % e)
                    self.assertFalse(c.reset, 'reset while pier discarded the rejected body')
                else:
                    self.assertIsNone(r.header('X-Smuggled'), 'the rejected body was run as a request')
                    self.assertEqual(r.header('X-After'), '1')
                    answered_after = 1
        self.assertEqual(self.b1.stats()['requests'], before + answered_after)
        self.assertStillServes()

    def test_chunked_body_over_max_body_is_413(self):
        body = b'%x\r\n%s\r\n' % (2000, b'x' * 2000) + b'0\r\n\r\n'
        self.assertRejected(HEAD + b'Transfer-Encoding: chunked\r\n\r\n' + body, 413, head_only=False)

    def test_body_at_max_body_is_accepted(self):
        with self.connect() as c:
            r = c.roundtrip('POST', '/echo', body=b'y' * 1024)
            self.assertStatus(r, 200)
            self.assertEqual(r.body, b'y' * 1024)

    def test_slow_request_head_gets_408_and_close(self):
        with self.connect() as c:
            t0 = time.monotonic()
            # Bytes keep arriving (an idle timer would keep being reset), but the whole head does
            # not arrive within request_head_timeout (1s). The last byte is sent before the
            # deadline so that pier has no unread input when it closes.
            c.send(b'GET / HTTP/1.1\r\n')
            for i in range(3):
                time.sleep(0.25)
                c.send(b'X-Slow-%d: v\r\n' % i)
            r = c.read_response()
            elapsed = time.monotonic() - t0
            self.assertStatus(r, 408)
            self.assertClosedCleanly(c)
        self.assertGreater(elapsed, 0.9)
        self.assertLess(elapsed, 3.0, '408 should come about 1s after the first byte')
        self.assertStillServes()

    def test_pier_survives_client_disconnecting_mid_request(self):
        with self.connect() as c:
            c.send(HEAD + b'Content-Length: 1000\r\n\r\npartial')
        with self.connect() as c:
            c.send(b'GET / HTTP/1.1\r\nHost: pier.test\r\nX-Half')
        time.sleep(0.2)
        self.assertStillServes()


class BadBackendResponseTest(PierTestCase):

    def setUp(self):
        super().setUp()
        self.b1 = self.start_backend('b1')
        self.start_pier(make_config({'app': upstream(self.b1, retry={'attempts': 1})}))

    def test_malformed_backend_response_is_502(self):
        with self.connect() as c:
            r = c.get('/?bad=1')
            self.assertStatus(r, 502)
        r = self.get('/')
        self.assertStatus(r, 200)
        self.assertEqual(r.body, b'b1\n')

    def test_backend_closing_mid_body_truncates_and_closes_client_connection(self):
        size = 200000
        with self.connect(timeout=5) as c:
            c.request('GET', '/?close=mid&size=%d' % size)
            try:
                r = c.read_response()
            except IncompleteResponse as e:
                # The head (with the backend's Content-Length) was forwarded, then the connection
                # was closed: the client can tell the body is incomplete.
                self.assertIsNotNone(e.head, 'connection closed before a response head: %s' % e)
                self.assertEqual(e.head.status, 200)
                self.assertEqual(e.head.header('Content-Length'), str(size))
                self.assertLess(e.received, size)
            else:
                self.fail('the client received a complete response (%d, %d body bytes) although the '
                          'backend sent only half of it' % (r.status, r.body_length))
        r = self.get('/')
        self.assertStatus(r, 200)
        self.assertEqual(r.body, b'b1\n')


if __name__ == '__main__':
    unittest.main()
