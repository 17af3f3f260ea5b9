"""Large bodies stream through pier in both directions with bounded memory.

100 MiB each way; pier's resident memory (VmRSS sampled every 20 ms, and the kernel's high-water
mark VmHWM) must stay under 64 MiB: a proxy that buffered a whole body could not. A sanitizer
build starts at about 60 MiB (shadow memory and the allocator's quarantine), so there the bound is
96 MiB: still less than the body it must not hold.
"""

import json
import time
import unittest
import urllib.parse

from harness import (SANITIZED, IncompleteResponse, PatternChecker, PierTestCase, RssSampler,
                     http_request, make_config, upstream)

MiB = 1 << 20
SIZE = 100 * MiB
RSS_LIMIT_KIB = (96 if SANITIZED else 64) * 1024


class StreamingTest(PierTestCase):
    SPLICE = True  # Content-Length bodies move with splice(2); StreamingCopyTest copies them

    def setUp(self):
        super().setUp()
        self.b1 = self.start_backend('b1')
        self.start_pier(make_config({'app': upstream(self.b1)}, http={'splice': self.SPLICE}))
        self.sampler = RssSampler(self.pier.pid)
        self.sampler.start()
        self.addCleanup(self.sampler.stop)

    def assertMemoryBounded(self):
        peak = self.sampler.stop()
        hwm = self.pier.peak_rss_kib() or 0
        worst = max(peak, hwm)
        self.assertLess(worst, RSS_LIMIT_KIB, 'pier used %.1f MiB (sampled VmRSS peak %.1f MiB, VmHWM '
                        '%.1f MiB) moving a %d MiB body' % (worst / 1024, peak / 1024, hwm / 1024,
                                                           SIZE // MiB))

    def test_100mib_chunked_upload_streams_through(self):
        piece = bytes(range(256)) * 256               # 64 KiB
        frame = b'%x\r\n' % len(piece) + piece + b'\r\n'
        with self.connect(timeout=30) as c:
            t0 = time.monotonic()
            c.send(b'POST /sink HTTP/1.1\r\nHost: pier.test\r\nTransfer-Encoding: chunked\r\n\r\n')
            for _ in range(SIZE // len(piece)):
                c.send(frame)
            c.send(b'0\r\n\r\n')
            r = c.read_response('POST')
            elapsed = time.monotonic() - t0
        self.assertStatus(r, 200)
        self.assertEqual(json.loads(r.body)['bytes'], SIZE)
        self.assertLess(elapsed, 50)
        self.assertMemoryBounded()

    def test_100mib_content_length_upload_streams_through(self):
        piece = b'u' * (1 * MiB)
        with self.connect(timeout=30) as c:
            c.send(b'PUT /sink HTTP/1.1\r\nHost: pier.test\r\nContent-Length: %d\r\n\r\n' % SIZE)
            for _ in range(SIZE // len(piece)):
                c.send(piece)
            r = c.read_response('PUT')
        self.assertStatus(r, 200)
        self.assertEqual(json.loads(r.body)['bytes'], SIZE)
        self.assertMemoryBounded()

    def download(self, target):
        checker = PatternChecker()
        with self.connect(timeout=30) as c:
            c.request('GET', target)
            # Read nothing for a while: a proxy without backpressure would now pull the whole
            # body from the (fast) backend into memory.
            time.sleep(1.5)
            r = c.read_response(sink=checker)
            self.assertEqual(c.get('/').body, b'b1\n', 'connection unusable after the big response')
        return r, checker

    def test_100mib_chunked_download_streams_through(self):
        r, checker = self.download('/?size=%d&chunked=1' % SIZE)
        self.assertStatus(r, 200)
        self.assertEqual(r.framing, 'chunked')
        self.assertEqual(checker.count, SIZE)
        self.assertIsNone(checker.mismatch_at, 'body differs from the backend\'s at byte %s'
                          % checker.mismatch_at)
        self.assertMemoryBounded()

    def test_100mib_content_length_download_streams_through(self):
        r, checker = self.download('/?size=%d' % SIZE)
        self.assertStatus(r, 200)
        self.assertEqual(r.header('Content-Length'), str(SIZE))
        self.assertEqual(checker.count, SIZE)
        self.assertIsNone(checker.mismatch_at, 'body differs from the backend\'s at byte %s'
                          % checker.mismatch_at)
        self.assertMemoryBounded()


class StreamingCopyTest(StreamingTest):
    """The same, with splicing off: Content-Length bodies copied through Pier's buffers."""
    SPLICE = False


class SpliceTest(PierTestCase):
    """The rest of a large Content-Length body goes socket -> pipe -> socket with splice(2); other
    bodies are copied. Either way the peer must get the same bytes, exactly the body's (a request
    pipelined behind it stays unread), and a peer that fails or stalls midway must be told.
    """

    def start(self, splice=True, **upstream_options):
        self.b1 = self.start_backend('b1')
        self.start_pier(make_config({'app': upstream(self.b1, **upstream_options)},
                                    http={'splice': splice}))

    def metric(self, name):
        """An unlabelled sample of pier's /metrics."""
        r = http_request(self.pier.admin_port, 'GET', '/metrics', headers=[('Connection', 'close')])
        for line in r.body.decode().splitlines():
            if line.startswith(name + ' '):
                return float(line.split()[1])
        raise AssertionError('%s not in /metrics' % name)

    def sent_spliced(self):
        return self.metric('pier_sent_bytes_spliced_total')

    def received_spliced(self):
        return self.metric('pier_received_bytes_spliced_total')

    def fetch(self, size):
        """GETs `size` pattern bytes, then a small response on the same connection."""
        checker = PatternChecker()
        with self.connect(timeout=30) as c:
            c.request('GET', '/?size=%d' % size)
            r = c.read_response(sink=checker)
            self.assertEqual(c.get('/').body, b'b1\n', 'connection unusable after the big response')
        self.assertStatus(r, 200)
        self.assertEqual(r.header('Content-Length'), str(size))
        self.assertEqual(checker.count, size)
        self.assertIsNone(checker.mismatch_at, 'body differs from the backend\'s at byte %s'
                          % checker.mismatch_at)

    def upload_head(self, size, target='/sink', extra=b''):
        return (b'PUT %s HTTP/1.1\r\nHost: pier.test\r\nContent-Length: %d\r\n%s\r\n'
                % (target.encode(), size, extra))

    def upload(self, size):
        """PUTs `size` bytes with a GET pipelined right behind the body's last byte."""
        piece = b'u' * MiB
        with self.connect(timeout=30) as c:
            c.send(self.upload_head(size))
            for _ in range(size // MiB - 1):
                c.send(piece)
            c.send(piece + b'GET / HTTP/1.1\r\nHost: pier.test\r\n\r\n')
            r = c.read_response('PUT')
            self.assertStatus(r, 200)
            self.assertEqual(json.loads(r.body)['bytes'], size)
            self.assertEqual(c.read_response().body, b'b1\n', 'the pipelined request was lost')

    # -- responses

    def test_large_body_is_spliced_small_body_is_not(self):
        self.start()
        self.fetch(20000)
        self.assertEqual(self.sent_spliced(), 0, 'a 20 kB body was spliced')
        self.fetch(10 * MiB)
        # All but what came with the head (at most one 64 KiB read) went through the pipe.
        self.assertGreaterEqual(self.sent_spliced(), 10 * MiB - 64 * 1024)
        self.assertLessEqual(self.sent_spliced(), 10 * MiB)

    def test_splice_off_copies_the_same_bytes(self):
        self.start(splice=False)
        self.fetch(10 * MiB)
        self.assertEqual(self.sent_spliced(), 0)

    def test_upstream_connection_is_reused_after_a_spliced_body(self):
        self.start()
        self.fetch(10 * MiB)
        before = self.b1.stats()['connections']  # each stats() call counts itself once
        for _ in range(3):
            self.fetch(10 * MiB)
        self.assertEqual(self.b1.stats()['connections'] - before, 1,
                         'a spliced response left its upstream connection unusable')

    def check_bytes_after_the_body(self, splice, size):
        """A backend that sends a whole extra response after the body: its connection must not be
        reused, or the next request would get that response."""
        self.start(splice=splice)
        evil = urllib.parse.quote('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nevil\n')
        with self.connect(timeout=30) as c:
            r = c.get('/?size=%d&after=%s' % (size, evil), sink=PatternChecker())
            self.assertStatus(r, 200)
            self.assertEqual(c.get('/').body, b'b1\n', 'the next request got the extra bytes')

    def test_bytes_after_a_spliced_body_keep_the_connection_from_reuse(self):
        self.check_bytes_after_the_body(splice=True, size=4 * MiB)
        self.assertGreater(self.sent_spliced(), 0)

    def test_bytes_after_a_copied_body_keep_the_connection_from_reuse(self):
        self.check_bytes_after_the_body(splice=False, size=4 * MiB)

    def test_client_leaving_mid_body_leaves_pier_serving(self):
        self.start()
        for _ in range(3):
            with self.connect(timeout=10) as c:
                c.request('GET', '/?size=%d' % (50 * MiB))
                c.read_head()
                c.read_exact(2 * MiB)
        self.assertGreater(self.sent_spliced(), 0, 'the body was not spliced')
        self.fetch(10 * MiB)  # no pipe with leftover bytes went back to the pool

    def assertCutShort(self, query, size, timeout):
        """The response's head arrives, then the connection closes before the whole body."""
        with self.connect(timeout=timeout) as c:
            c.request('GET', '/?size=%d&%s' % (size, query))
            t0 = time.monotonic()
            try:
                r = c.read_response()
            except IncompleteResponse as e:
                self.assertIsNotNone(e.head, 'no response head: %s' % e)
                self.assertEqual(e.head.header('Content-Length'), str(size))
                self.assertLess(e.received, size)
            else:
                self.fail('a complete response (%d, %d body bytes) although the backend sent half'
                          % (r.status, r.body_length))
            return time.monotonic() - t0

    def check_closing_mid_body(self, splice):
        self.start(splice=splice, retry={'attempts': 1})
        self.assertCutShort('close=mid', 4 * MiB, timeout=10)
        self.fetch(10 * MiB)
        return self.sent_spliced()

    def test_backend_closing_mid_body_cuts_the_client_off(self):
        self.assertGreater(self.check_closing_mid_body(splice=True), 0, 'the body was not spliced')

    def test_backend_closing_mid_body_cuts_the_client_off_without_splice(self):
        self.assertEqual(self.check_closing_mid_body(splice=False), 0)

    def check_stalling_mid_body(self, splice):
        self.start(splice=splice, timeouts={'idle': '500ms'})
        elapsed = self.assertCutShort('close=stall', 4 * MiB, timeout=20)
        self.assertGreater(elapsed, 0.4, 'cut off before the idle timeout')
        self.assertLess(elapsed, 10, 'the idle timeout did not end the stalled body')
        self.fetch(10 * MiB)
        return self.sent_spliced()

    def test_backend_stalling_mid_body_is_cut_off_after_the_idle_timeout(self):
        spliced = self.check_stalling_mid_body(splice=True)
        self.assertGreater(spliced, 10 * MiB, 'the bodies were not spliced')

    def test_backend_stalling_mid_body_is_cut_off_without_splice(self):
        self.assertEqual(self.check_stalling_mid_body(splice=False), 0)

    # -- request bodies

    def test_large_upload_is_spliced_to_its_last_byte(self):
        self.start()
        self.upload(10 * MiB)
        # All but what came with the head (at most one 16 KiB read) went through the pipe.
        spliced = self.received_spliced()
        self.assertGreaterEqual(spliced, 10 * MiB - 16 * 1024)
        self.assertLessEqual(spliced, 10 * MiB)

    def test_upload_without_splice_is_copied(self):
        self.start(splice=False)
        self.upload(10 * MiB)
        self.assertEqual(self.received_spliced(), 0)

    def test_upload_after_100_continue_is_spliced(self):
        self.start()
        size = 8 * MiB
        with self.connect(timeout=30) as c:
            c.send(self.upload_head(size, extra=b'Expect: 100-continue\r\n'))
            interim = c.read_head()
            self.assertEqual(interim.status, 100)
            for _ in range(size // MiB):
                c.send(b'e' * MiB)
            r = c.read_response('PUT')
        self.assertStatus(r, 200)
        self.assertEqual(json.loads(r.body)['bytes'], size)
        self.assertGreater(self.received_spliced(), size - 16 * 1024)

    def test_client_leaving_mid_upload_leaves_pier_serving(self):
        self.start()
        for _ in range(3):
            with self.connect(timeout=10) as c:
                c.send(self.upload_head(50 * MiB))
                c.send(b'u' * (2 * MiB))
        for _ in range(3):
            self.assertEqual(self.get('/').body, b'b1\n')
        self.assertGreater(self.received_spliced(), 0)
        self.upload(10 * MiB)

    def check_client_stalling_mid_upload(self, splice):
        self.start(splice=splice, timeouts={'idle': '500ms'})
        with self.connect(timeout=20) as c:
            c.send(self.upload_head(4 * MiB))
            c.send(b's' * MiB)
            t0 = time.monotonic()
            r = c.read_response('PUT')
            elapsed = time.monotonic() - t0
            self.assertStatus(r, 408)
            self.assertClosedCleanly(c)
        self.assertGreater(elapsed, 0.4, 'answered before the idle timeout')
        self.assertLess(elapsed, 10)
        self.upload(10 * MiB)
        return self.received_spliced()

    def test_client_stalling_mid_upload_gets_408(self):
        self.assertGreater(self.check_client_stalling_mid_upload(splice=True), 0)

    def test_client_stalling_mid_upload_gets_408_without_splice(self):
        self.assertEqual(self.check_client_stalling_mid_upload(splice=False), 0)

if __name__ == '__main__':
    unittest.main()
