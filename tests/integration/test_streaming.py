"""Large bodies stream through pier in both directions with bounded memory.

100 MiB each way; pier's resident memory (VmRSS sampled every 20 ms, and the kernel's high-water
mark VmHWM) must stay under 64 MiB: a proxy that buffered a whole body could not. A sanitizer
build starts at about 60 MiB (shadow memory and the allocator's quarantine), so there the bound is
96 MiB: still less than the body it must not hold.
"""

import json
import time
import unittest

from harness import SANITIZED, PatternChecker, PierTestCase, RssSampler, make_config, upstream

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


if __name__ == '__main__':
    unittest.main()
