"""Process lifecycle: graceful shutdown on SIGTERM/SIGINT, workers."""

import signal
import time
import unittest

from harness import (PierTestCase, connection_refused, make_config, run_concurrently, upstream,
                     wait_for)


class LifecycleTest(PierTestCase):

    def start(self, **top):
        self.b1 = self.start_backend('b1')
        return self.start_pier(make_config({'app': upstream(self.b1)}, **top))

    def test_sigterm_lets_in_flight_request_finish_and_exits_zero(self):
        pier = self.start(shutdown_timeout='10s')
        c = self.connect()
        c.request('GET', '/?delay=1500')
        wait_for(lambda: self.b1.stats()['in_flight'] == 1, timeout=3, message='the request at the backend')
        t_signal = time.monotonic()
        pier.signal(signal.SIGTERM)

        # New connections are refused soon after the signal, while the slow request is still running.
        wait_for(lambda: connection_refused(pier.port), timeout=1.0, interval=0.02,
                 message='new connections to be refused after SIGTERM')
        self.assertIsNone(pier.proc.poll(), 'pier exited with a request in flight')

        r = c.read_response()
        self.assertStatus(r, 200)
        self.assertEqual(r.body, b'b1\n')
        self.assertGreater(time.monotonic() - t_signal, 1.0)
        code = pier.wait(5)
        self.assertIsNotNone(code, 'pier did not exit within 5s of its last request finishing')
        self.assertEqual(code, 0)

    def test_sigterm_with_only_idle_connections_exits_promptly(self):
        # Idle keep-alive connections have nothing in flight: they must not hold shutdown for the
        # whole shutdown_timeout.
        pier = self.start(shutdown_timeout='20s')
        idle = [self.connect() for _ in range(3)]
        for c in idle:
            self.assertStatus(c.get('/'), 200)
        t0 = time.monotonic()
        pier.signal(signal.SIGTERM)
        code = pier.wait(5)
        self.assertIsNotNone(code, 'pier still running 5s after SIGTERM with only idle connections')
        self.assertEqual(code, 0)
        self.assertLess(time.monotonic() - t0, 5)
        for c in idle:
            self.assertIn(c.wait_closed(2), ('closed', 'reset'))

    def test_shutdown_timeout_bounds_the_drain(self):
        pier = self.start(shutdown_timeout='1s')
        c = self.connect()
        c.request('GET', '/?delay=20000')
        wait_for(lambda: self.b1.stats()['in_flight'] == 1, timeout=3, message='the request at the backend')
        t0 = time.monotonic()
        pier.signal(signal.SIGTERM)
        code = pier.wait(6)
        self.assertIsNotNone(code, 'pier still running 6s after SIGTERM with shutdown_timeout 1s')
        self.assertLess(time.monotonic() - t0, 4.0)

    def test_sigint_also_shuts_down_cleanly(self):
        pier = self.start()
        self.assertStatus(self.get('/'), 200)
        pier.signal(signal.SIGINT)
        self.assertEqual(pier.wait(5), 0)

    def test_multiple_workers_serve_concurrent_connections(self):
        self.start(workers=2)

        def client(i):
            with self.connect() as c:
                return [c.get('/?c=%d&r=%d' % (i, j)).status for j in range(20)]

        results = run_concurrently(16, client)
        self.assertEqual([s for r in results for s in r], [200] * 320)


if __name__ == '__main__':
    unittest.main()
