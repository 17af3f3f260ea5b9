"""Retries (what is retried, what is not, the retry budget) and upstream timeouts."""

import math
import time
import unittest

from harness import PierTestCase, free_port, make_config, upstream

# Passive ejection would take failing backends out of rotation and hide what these tests count.
NO_EJECTION = {'consecutive_failures': 1000}   # the maximum; a run here has far fewer failures


class RetryTest(PierTestCase):

    def total_requests(self, backends):
        return sum(b.stats()['requests'] for b in backends)

    def test_refused_backend_is_skipped_and_requests_succeed(self):
        b1 = self.start_backend('b1')
        dead = '127.0.0.1:%d' % free_port()   # nothing listens there: connect is refused
        self.start_pier(make_config({'app': upstream(dead, b1, retry={'attempts': 3})}))
        for i in range(20):
            r = self.get('/?i=%d' % i)
            self.assertEqual((i, r.status, r.header('X-Backend')), (i, 200, 'b1'))

    def test_only_backend_refusing_connections_gives_502(self):
        dead = '127.0.0.1:%d' % free_port()
        self.start_pier(make_config({'app': upstream(dead)}))
        t0 = time.monotonic()
        r = self.get('/')
        self.assertIn(r.status, (502, 503), 'a refused upstream is a failed upstream')
        self.assertLess(time.monotonic() - t0, 3.0)

    def test_backend_503_is_retried_on_another_backend(self):
        failing, ok = self.start_backends('failing', 'ok')
        failing.control(fail=1)
        self.start_pier(make_config({'app': upstream(failing, ok, retry={'attempts': 2})}))
        for i in range(10):
            r = self.get('/?i=%d' % i)
            self.assertEqual((i, r.status, r.header('X-Backend')), (i, 200, 'ok'))

    def test_no_retry_when_attempts_is_one(self):
        failing, ok = self.start_backends('failing', 'ok')
        failing.control(fail=1)
        self.start_pier(make_config({'app': upstream(failing, ok, retry={'attempts': 1},
                                                     outlier=NO_EJECTION)}))
        statuses = [self.get('/').status for _ in range(10)]
        # Round robin: half the requests go to the failing backend and are not retried.
        self.assertEqual(statuses.count(503), 5, statuses)

    def test_retry_on_list_limits_what_is_retried(self):
        failing, ok = self.start_backends('failing', 'ok')
        failing.control(fail=1)
        self.start_pier(make_config({'app': upstream(
            failing, ok, retry={'attempts': 3, 'on': ['connect_failure']}, outlier=NO_EJECTION)}))
        statuses = [self.get('/').status for _ in range(10)]
        self.assertEqual(statuses.count(503), 5, '503 is not in retry.on: %s' % statuses)

    def test_post_is_not_retried_after_its_body_was_sent(self):
        # The backend reads the whole request, then closes without a byte of response. The request
        # may have been processed, so a POST must not be replayed: 502, and exactly one attempt.
        # It is pier's first request, so the upstream connection is fresh (a *reused* pooled
        # connection closing would be retried transparently, which is a different case).
        backends = self.start_backends('b1', 'b2', 'b3')
        self.start_pier(make_config({'app': upstream(*backends, retry={'attempts': 3})}))
        r = self.request('POST', '/?close=early', body=b'charge the card once')
        self.assertStatus(r, 502)
        self.assertEqual(self.total_requests(backends), 1, 'the POST was sent more than once')

    def test_get_is_retried_when_backend_closes_without_response(self):
        backends = self.start_backends('b1', 'b2', 'b3')
        self.start_pier(make_config({'app': upstream(*backends, retry={'attempts': 3})}))
        r = self.get('/?close=early')
        self.assertStatus(r, 502)
        self.assertEqual(self.total_requests(backends), 3, 'GET should be tried attempts (3) times')

    def test_retry_budget_limits_retries_to_failing_backends(self):
        # Three backends, all answering 503; attempts 3, so without a budget every request is tried
        # 3 times: 600 backend requests for 200 client requests. The budget allows retries of at
        # most 20% of the requests over a 10 s window plus a floor of 3 retries per second:
        #   retries <= 0.20 * 200                      (the share: 40)
        #            + 3 * max(10, elapsed seconds)    (the floor, counted over at least one whole
        #                                               10 s window, since the run is shorter)
        #            + 10                              (slack for window-edge effects)
        # so about 280 backend requests for a run under 10 s, far below 600. And at least one retry
        # must happen (the floor allows some), so more than 200.
        backends = self.start_backends('b1', 'b2', 'b3')
        for b in backends:
            b.control(fail=1)
        n = 200
        self.start_pier(make_config({'app': upstream(
            *backends,
            retry={'attempts': 3, 'budget': '20%', 'min_retries_per_second': 3,
                   'backoff': '1ms..5ms'},
            outlier=NO_EJECTION)}))
        t0 = time.monotonic()
        with self.connect() as c:
            for i in range(n):
                r = c.get('/?i=%d' % i)
                self.assertEqual((i, r.status), (i, 503))
        elapsed = time.monotonic() - t0
        total = self.total_requests(backends)
        bound = n + math.ceil(0.20 * n) + 3 * max(10, math.ceil(elapsed)) + 10
        self.assertGreater(total, n, 'no request was retried at all (expected some within budget)')
        self.assertLessEqual(total, bound, '%d backend requests for %d client requests in %.1fs: '
                             'the retry budget was not applied (bound %d)' % (total, n, elapsed, bound))


class TimeoutTest(PierTestCase):

    def test_response_header_timeout_gives_504(self):
        b1 = self.start_backend('b1')
        self.start_pier(make_config({'app': upstream(
            b1, timeouts={'response_header': '500ms'}, retry={'attempts': 1})}))
        t0 = time.monotonic()
        r = self.get('/?delay=3000')
        elapsed = time.monotonic() - t0
        self.assertStatus(r, 504)
        self.assertGreater(elapsed, 0.4, '504 before the response_header timeout')
        self.assertLess(elapsed, 2.5, '504 should come about 0.5s after the request')
        self.assertEqual(self.get('/').status, 200)

    def test_response_header_timeout_is_retried_on_another_backend(self):
        slow = self.start_backend('slow', '--delay-ms', '3000')
        fast = self.start_backend('fast')
        self.start_pier(make_config({'app': upstream(
            slow, fast, timeouts={'response_header': '300ms'}, retry={'attempts': 2},
            outlier=NO_EJECTION)}))
        for i in range(4):
            t0 = time.monotonic()
            r = self.get('/?i=%d' % i)
            self.assertEqual((i, r.status, r.header('X-Backend')), (i, 200, 'fast'))
            self.assertLess(time.monotonic() - t0, 2.0)

    def test_total_timeout_gives_504(self):
        b1 = self.start_backend('b1')
        self.start_pier(make_config({'app': upstream(
            b1, timeouts={'response_header': '15s', 'total': '1s'})}))
        t0 = time.monotonic()
        r = self.get('/?delay=5000')
        elapsed = time.monotonic() - t0
        self.assertStatus(r, 504)
        self.assertGreater(elapsed, 0.9)
        self.assertLess(elapsed, 2.5, 'total timeout 1s: 504 should come about 1s after the request')

    def test_total_timeout_covers_all_attempts(self):
        # Each attempt times out after 800 ms, so three attempts would take 2.4 s+; total is 1 s
        # for the whole request, all attempts included.
        backends = self.start_backends('b1', 'b2', 'b3', args=('--delay-ms', '3000'))
        self.start_pier(make_config({'app': upstream(
            *backends, timeouts={'response_header': '800ms', 'total': '1s'},
            retry={'attempts': 3}, outlier=NO_EJECTION)}))
        t0 = time.monotonic()
        r = self.get('/')
        elapsed = time.monotonic() - t0
        self.assertStatus(r, 504)
        self.assertLess(elapsed, 1.8, 'total timeout 1s not applied across attempts (%.2fs)' % elapsed)


if __name__ == '__main__':
    unittest.main()
