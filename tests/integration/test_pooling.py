"""Upstream connection pooling: reuse, stale pooled connections, limits, idle timeout.

Backend /stats counts connections it accepted; every stats() call opens one connection of its own,
which the counts below account for.
"""

import threading
import time
import unittest

from harness import PierTestCase, make_config, run_concurrently, upstream, wait_for


class PoolingTest(PierTestCase):

    def test_thousand_keepalive_requests_use_at_most_pool_size_backend_connections(self):
        b1 = self.start_backend('b1')
        pool_size = 4
        self.start_pier(make_config({'app': upstream(b1, pool={'max_idle': pool_size})}))
        before = b1.stats()['connections']
        with self.connect() as c:
            for i in range(1000):
                r = c.get('/')
                if r.status != 200:
                    self.fail('request %d: status %d' % (i, r.status))
        opened = b1.stats()['connections'] - before - 1   # -1: this stats() call's own connection
        self.assertEqual(b1.stats()['requests'], 1000)
        self.assertGreaterEqual(opened, 1)
        self.assertLessEqual(opened, pool_size,
                             '1000 sequential requests opened %d backend connections' % opened)

    def test_concurrent_clients_share_pooled_backend_connections(self):
        b1 = self.start_backend('b1')
        self.start_pier(make_config({'app': upstream(b1, pool={'max_idle': 8})}))
        before = b1.stats()['connections']

        def client(_):
            with self.connect() as c:
                for _ in range(100):
                    self.assertStatus(c.get('/'), 200)

        run_concurrently(4, client)
        # 4 clients with one request in flight each need at most 4 backend connections; 400
        # requests over fresh connections would be 400.
        opened = b1.stats()['connections'] - before - 1
        self.assertLessEqual(opened, 8, 'opened %d backend connections for 4 clients' % opened)

    def test_pooled_connection_closed_by_backend_is_retried(self):
        # The backend closes every connection silently after one response, so every pooled
        # connection is dead by the time pier reuses it. retry.attempts is 1: the only thing that
        # may save these requests is that pier finds the pooled connection closed and opens
        # another. A GET is saved even when the backend's FIN is still on its way (the
        # transparent retry of an idempotent request); a POST is not replayed once written, so it
        # is sent after a pause in which the FIN has arrived and the check before reuse sees it.
        b1 = self.start_backend('b1', '--max-requests-per-conn', '1')
        self.start_pier(make_config({'app': upstream(b1, retry={'attempts': 1})}))
        with self.connect() as c:
            for i in range(40):
                if i % 2:
                    time.sleep(0.2)
                    body = b'post body %d' % i
                    r = c.roundtrip('POST', '/echo', body=body)
                    self.assertEqual((i, r.status, r.body), (i, 200, body))
                else:
                    r = c.get('/?i=%d' % i)
                    self.assertEqual((i, r.status, r.body), (i, 200, b'b1\n'))
        self.assertEqual(b1.stats()['requests'], 40, 'each request should reach the backend once')

    def test_pooled_connection_closed_after_backend_idle_timeout_is_retried(self):
        # The backend's keep-alive timeout (300 ms) is shorter than pier's pool idle_timeout.
        b1 = self.start_backend('b1', '--idle-close-ms', '300')
        self.start_pier(make_config({'app': upstream(b1, retry={'attempts': 1},
                                                     pool={'idle_timeout': '60s'})}))
        with self.connect() as c:
            for i in range(6):
                if i:
                    time.sleep(0.5)
                if i % 2:
                    r = c.roundtrip('POST', '/echo', body=b'x' * 100)
                    self.assertEqual((i, r.status, r.body), (i, 200, b'x' * 100))
                else:
                    r = c.get('/')
                    self.assertEqual((i, r.status), (i, 200))

    def test_idle_pooled_connections_are_closed_after_pool_idle_timeout(self):
        b1 = self.start_backend('b1')
        self.start_pier(make_config({'app': upstream(b1, pool={'idle_timeout': '500ms'})}))
        self.assertStatus(self.get('/'), 200)
        # active_connections includes the stats() call's own connection.
        self.assertEqual(b1.stats()['active_connections'], 2, 'the pooled connection should be open')
        wait_for(lambda: b1.stats()['active_connections'] == 1, timeout=4.0,
                 message='pier closing its idle pooled connection (idle_timeout 500ms)')

    def test_max_connections_limits_backend_connections(self):
        # max_connections 1: 6 concurrent slow requests queue for the one connection and all
        # succeed (queue_timeout is generous); the backend never sees a second connection.
        b1 = self.start_backend('b1')
        self.start_pier(make_config({'app': upstream(
            b1, pool={'max_connections': 1, 'queue_timeout': '10s'})}))
        peak = {'active': 0}
        stop = threading.Event()

        def watch():
            while not stop.is_set():
                # -1: the stats() connection itself.
                peak['active'] = max(peak['active'], b1.stats()['active_connections'] - 1)
                stop.wait(0.05)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        try:
            results = run_concurrently(6, lambda i: self.get('/?delay=200&i=%d' % i))
        finally:
            stop.set()
            watcher.join(5)
        self.assertEqual([r.status for r in results], [200] * 6)
        self.assertLessEqual(peak['active'], 1, 'more than one backend connection open at once')
        self.assertEqual(b1.stats()['requests'], 6)

    def test_request_waiting_longer_than_queue_timeout_gets_503(self):
        b1 = self.start_backend('b1')
        self.start_pier(make_config({'app': upstream(
            b1, pool={'max_connections': 1, 'queue_timeout': '300ms'},
            retry={'attempts': 1})}))
        slow = self.connect()
        slow.request('GET', '/?delay=2000')
        wait_for(lambda: b1.stats()['in_flight'] == 1, timeout=3, message='the slow request at the backend')
        t0 = time.monotonic()
        r = self.get('/')
        elapsed = time.monotonic() - t0
        self.assertStatus(r, 503)
        self.assertGreater(elapsed, 0.2, 'answered before the queue timeout')
        self.assertLess(elapsed, 1.5, 'queue_timeout 300ms: 503 should come quickly')
        self.assertStatus(slow.read_response(), 200)


if __name__ == '__main__':
    unittest.main()
