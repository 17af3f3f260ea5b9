"""Active health checks and passive outlier ejection."""

import time
import unittest

from harness import PierTestCase, make_config, upstream, wait_for

FAST_HEALTH = {'path': '/healthz', 'interval': '200ms', 'timeout': '1s', 'rise': 2, 'fall': 2}


class HealthTest(PierTestCase):

    def names(self, n):
        """X-Backend of n sequential GETs (None for pier's own responses)."""
        out = []
        with self.connect() as c:
            for _ in range(n):
                out.append(c.get('/').header('X-Backend'))
        return out

    def wait_serving(self, expected, timeout=5.0):
        """Wait until a batch of requests is served by exactly the set `expected`."""
        expected = set(expected)
        return wait_for(lambda: set(self.names(3 * len(expected))) == expected, timeout,
                        interval=0.1, message='requests served by exactly %s' % sorted(expected))

    # -- active

    def test_active_health_check_removes_and_restores_backend(self):
        b1, b2 = self.start_backends('b1', 'b2')
        self.start_pier(make_config({'app': upstream(b1, b2, health=FAST_HEALTH)}))
        self.wait_serving({'b1', 'b2'})

        b2.control(healthy=0)
        # fall 2 x interval 200ms: unhealthy within about 0.4-0.6 s; allow a few seconds.
        self.wait_serving({'b1'}, timeout=5.0)
        self.assertNotIn('b2', self.names(30), 'an unhealthy backend still got requests')

        b2.control(healthy=1)
        self.wait_serving({'b1', 'b2'}, timeout=5.0)

    def test_unhealthy_backend_is_not_used_although_it_would_answer(self):
        # b2 answers every normal request with 200; only its /healthz says 503. So requests that
        # reach it succeed, and only health checking can explain that none do.
        b1, b2 = self.start_backends('b1', 'b2')
        b2.control(healthy=0)
        self.start_pier(make_config({'app': upstream(b1, b2, health=FAST_HEALTH)}))
        time.sleep(1.0)   # long enough for fall 2 even if backends start out healthy
        names = self.names(30)
        self.assertEqual(set(names), {'b1'}, names)

    def test_no_healthy_backend_gives_503_quickly(self):
        b1 = self.start_backend('b1')
        b1.control(healthy=0)
        self.start_pier(make_config({'app': upstream(b1, health=FAST_HEALTH)}))
        # Until pier has seen `fall` failed checks it may still use b1 (a 200 with X-Backend).
        wait_for(lambda: self.get('/').header('X-Backend') is None, timeout=5.0, interval=0.1,
                 message="pier's own answer for an upstream without healthy backends")
        t0 = time.monotonic()
        r = self.get('/')
        elapsed = time.monotonic() - t0
        self.assertStatus(r, 503)
        self.assertIsNone(r.header('X-Backend'))
        self.assertLess(elapsed, 1.0, 'no healthy backend: 503 should be immediate (%.2fs)' % elapsed)

    # -- passive

    def test_killed_backend_is_ejected_and_clients_see_no_errors(self):
        b1, b2, b3 = self.start_backends('b1', 'b2', 'b3')
        self.start_pier(make_config({'app': upstream(
            b1, b2, b3, retry={'attempts': 3},
            outlier={'consecutive_failures': 3, 'base_ejection': '30s', 'max_ejection_percent': '50%'})}))
        self.assertEqual(set(self.names(6)), {'b1', 'b2', 'b3'})

        port = b3.port
        b3.stop()
        for i in range(30):
            r = self.get('/?i=%d' % i)
            self.assertEqual((i, r.status), (i, 200), 'retries should absorb the dead backend')
            self.assertIn(r.header('X-Backend'), ('b1', 'b2'))

        # Bring a backend back on the dead one's port. If pier ejected the dead backend (30 s),
        # it sends nothing there; without ejection, round robin would send it about a third.
        revived = self.start_backend('revived', port=port)
        names = self.names(30)
        self.assertNotIn('revived', names, 'the failed backend was not ejected: %s' % names)
        self.assertEqual(revived.stats()['requests'], 0)

    def test_ejected_backend_returns_after_base_ejection(self):
        flaky, steady = self.start_backends('flaky', 'steady')
        flaky.control(fail=1)
        self.start_pier(make_config({'app': upstream(
            flaky, steady, retry={'attempts': 2},
            outlier={'consecutive_failures': 2, 'base_ejection': '1s', 'max_ejection_percent': '50%'})}))
        for _ in range(10):
            self.assertStatus(self.get('/'), 200)
        flaky.control(fail=0)
        names = self.names(10)
        self.assertEqual(set(names), {'steady'}, 'flaky should be ejected right after its failures')
        time.sleep(1.5)
        self.wait_serving({'flaky', 'steady'}, timeout=4.0)

    def test_max_ejection_percent_keeps_half_of_the_backends(self):
        # Both backends fail (503 with X-Backend). After 2 failures each would be ejected, but
        # max_ejection_percent 50 allows ejecting only one of two: the other stays in rotation,
        # so every response still comes from a backend, and (once one is ejected) from the same one.
        b1, b2 = self.start_backends('b1', 'b2')
        b1.control(fail=1)
        b2.control(fail=1)
        self.start_pier(make_config({'app': upstream(
            b1, b2, retry={'attempts': 1},
            outlier={'consecutive_failures': 2, 'base_ejection': '30s', 'max_ejection_percent': '50%'})}))
        responses = []
        with self.connect() as c:
            for _ in range(20):
                responses.append(c.get('/'))
        names = [r.header('X-Backend') for r in responses]
        self.assertEqual([r.status for r in responses], [503] * 20)
        self.assertNotIn(None, names, 'pier ejected every backend (max_ejection_percent 50): %s' % names)
        self.assertEqual(len(set(names[-10:])), 1, 'no backend was ejected at all: %s' % names)


if __name__ == '__main__':
    unittest.main()
