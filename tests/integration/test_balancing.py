"""Load balancing: smooth weighted round robin, least connections, random."""

import unittest

from harness import PierTestCase, make_config, run_concurrently, upstream


class BalancingTest(PierTestCase):

    def sequence(self, n):
        """X-Backend of n sequential requests on one keep-alive connection."""
        out = []
        with self.connect() as c:
            for _ in range(n):
                r = c.get('/')
                self.assertStatus(r, 200)
                out.append(r.header('X-Backend'))
        return out

    def test_weighted_round_robin_follows_smooth_weighted_order(self):
        # nginx's smooth weighted round robin, weights a=5, b=1, c=1 (ties go to the backend listed
        # first): each pick adds every weight to its current value, takes the largest and subtracts
        # the total (7) from it. From all-zero: a a b a c a a, then the cycle repeats.
        a, b, c = self.start_backends('a', 'b', 'c')
        self.start_pier(make_config({'app': upstream((a, 5), (b, 1), (c, 1), balance='round_robin')},
                                    workers=1))
        self.assertEqual(self.sequence(14), list('aabacaa') * 2)

    def test_weighted_round_robin_is_the_default_balancer(self):
        a, b, c = self.start_backends('a', 'b', 'c')
        self.start_pier(make_config({'app': upstream((a, 5), (b, 1), (c, 1))}, workers=1))
        self.assertEqual(self.sequence(7), list('aabacaa'))

    def test_unweighted_round_robin_rotates_exactly(self):
        backends = self.start_backends('a', 'b', 'c')
        self.start_pier(make_config({'app': upstream(*backends, balance='round_robin')}, workers=1))
        seq = self.sequence(12)
        self.assertEqual(sorted(seq[:3]), ['a', 'b', 'c'], 'first three picks: %s' % seq)
        self.assertEqual(seq, seq[:3] * 4, 'not an exact rotation: %s' % seq)

    def test_round_robin_spreads_requests_from_many_connections(self):
        # One request per new connection (no keep-alive): the rotation is per upstream, not per
        # client connection.
        backends = self.start_backends('a', 'b')
        self.start_pier(make_config({'app': upstream(*backends, balance='round_robin')}, workers=1))
        seq = [self.get('/').header('X-Backend') for _ in range(10)]
        self.assertEqual(backend_counts_from(seq), {'a': 5, 'b': 5}, seq)

    def test_least_connections_steers_away_from_slow_backend(self):
        fast = self.start_backend('fast')
        slow = self.start_backend('slow', '--delay-ms', '300')
        self.start_pier(make_config({'app': upstream(fast, slow, balance='least_connections')},
                                    workers=1))
        threads, per_thread = 8, 25

        def client(_):
            names = []
            with self.connect() as c:
                for _ in range(per_thread):
                    r = c.get('/')
                    self.assertStatus(r, 200)
                    names.append(r.header('X-Backend'))
            return names

        names = [n for result in run_concurrently(threads, client, timeout=60) for n in result]
        counts = backend_counts_from(names)
        # Round robin would give each about half (100/100). With least connections the slow
        # backend holds its requests 300 ms, so new ones go to the fast one: it should get
        # the clear majority.
        self.assertEqual(sum(counts.values()), threads * per_thread)
        self.assertGreaterEqual(counts.get('fast', 0), 4 * counts.get('slow', 0),
                                'least_connections did not favour the fast backend: %s' % counts)

    def test_random_balancer_uses_every_backend(self):
        backends = self.start_backends('a', 'b', 'c')
        self.start_pier(make_config({'app': upstream(*backends, balance='random')}))
        seq = self.sequence(90)
        counts = backend_counts_from(seq)
        # Binomial(90, 1/3): P(a backend gets fewer than 10) is below 1e-6.
        for name in 'abc':
            self.assertGreaterEqual(counts.get(name, 0), 10, counts)

    def test_random_balancer_respects_weights(self):
        heavy, light = self.start_backends('heavy', 'light')
        self.start_pier(make_config({'app': upstream((heavy, 9), (light, 1), balance='random')}))
        counts = backend_counts_from(self.sequence(200))
        # Expected 180/20; unweighted would be 100/100. 140 is > 8 standard deviations from 100.
        self.assertGreater(counts.get('heavy', 0), 140, counts)
        self.assertGreater(counts.get('light', 0), 0, counts)


def backend_counts_from(names):
    counts = {}
    for n in names:
        counts[n] = counts.get(n, 0) + 1
    return counts


if __name__ == '__main__':
    unittest.main()
