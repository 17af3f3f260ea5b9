"""Large bodies stream through pier in both directions with bounded memory.

100 MiB each way; pier's resident memory (VmRSS sampled every 20 ms, and the kernel's high-water
mark VmHWM) must stay under 64 MiB: a proxy that buffered a whole body could not. A sanitizer
build starts at about 60 MiB (shadow memory and the allocator's quarantine), so there the bound is
96 MiB: still less than the body it must not hold.
"""

import json
import time
import unittest

from harness import (SANITIZED, IncompleteResponse, PatternChecker, PierTestCase, RssSampler,
                     http_request, make_config, upstream)

MiB = 1 << 20
SIZE = 100 * MiB
RSS_LIMIT_KIB = (96 if SANITIZED else 64) * 1024


class StreamingTest(PierTestCase):

    def setUp(self):
        super().setUp()
        self.b1 = self.start_backend('b1')
        self.start_pier(make_config({'app': upstream(self.b1)}))
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


def metric(port, name):
    """The value of an unlabelled sample in pier's /metrics."""
    text = http_request(port, 'GET', '/metrics', headers=[('Connection', 'close')]).body.decode()
    for line in text.splitlines():
        if line.startswith(name + ' '):
            return float(line.split()[1])
    raise AssertionError('%s not in /metrics' % name)


class SpliceTest(PierTestCase):
    """Large Content-Length bodies go backend -> pipe -> client with splice(2); the rest is copied.

    Either way the client must get the same bytes, and a backend that fails or stalls midway must
    leave the client with a connection it can tell was cut short.
    """

    def start(self, splice=True, **upstream_options):
        self.b1 = self.start_backend('b1')
        self.start_pier(make_config({'app': upstream(self.b1, **upstream_options)},
                                    http={'splice': splice}))

    def spliced(self):
        return metric(self.pier.admin_port, 'pier_sent_bytes_spliced_total')

    def fetch(self, size):
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

    def test_large_body_is_spliced_small_body_is_not(self):
        self.start()
        self.fetch(20000)
        self.assertEqual(self.spliced(), 0, 'a 20 kB body was spliced')
        self.fetch(10 * MiB)
        # All but what came with the head (at most one 64 KiB read) went through the pipe.
        self.assertGreaterEqual(self.spliced(), 10 * MiB - 64 * 1024)
        self.assertLessEqual(self.spliced(), 10 * MiB)

    def test_splice_off_copies_the_same_bytes(self):
        self.start(splice=False)
        self.fetch(10 * MiB)
        self.assertEqual(self.spliced(), 0)

    def test_client_leaving_mid_body_leaves_pier_serving(self):
        self.start()
        for _ in range(3):
            with self.connect(timeout=10) as c:
                c.request('GET', '/?size=%d' % (50 * MiB))
                c.read_head()
                c.read_exact(2 * MiB)
        # The upstream connections that were cut off are not reused half-read.
        for _ in range(3):
            self.assertEqual(self.get('/').body, b'b1\n')
        self.assertGreater(self.spliced(), 0, 'the body was not spliced')

    def assertCutShort(self, query, size, timeout):
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
        self.assertEqual(self.get('/').body, b'b1\n')
        return self.spliced()

    def test_backend_closing_mid_body_cuts_the_client_off(self):
        self.assertGreater(self.check_closing_mid_body(splice=True), 0, 'the body was not spliced')

    def test_backend_closing_mid_body_cuts_the_client_off_without_splice(self):
        self.assertEqual(self.check_closing_mid_body(splice=False), 0)

    def check_stalling_mid_body(self, splice):
        self.start(splice=splice, timeouts={'idle': '500ms'})
        elapsed = self.assertCutShort('close=stall', 4 * MiB, timeout=20)
        self.assertGreater(elapsed, 0.4, 'cut off before the idle timeout')
        self.assertLess(elapsed, 10, 'the idle timeout did not end the stalled body')
        self.assertEqual(self.get('/').body, b'b1\n')
        return self.spliced()

    def test_backend_stalling_mid_body_is_cut_off_after_the_idle_timeout(self):
        self.assertGreater(self.check_stalling_mid_body(splice=True), 0, 'the body was not spliced')

    def test_backend_stalling_mid_body_is_cut_off_without_splice(self):
        self.assertEqual(self.check_stalling_mid_body(splice=False), 0)

if __name__ == '__main__':
    unittest.main()
