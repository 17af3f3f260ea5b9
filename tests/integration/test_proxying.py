"""Proxying basics: requests and bodies reach the backend, routing, forwarding and hop-by-hop headers."""

import json
import unittest

from harness import PierTestCase, make_config, upstream


def header_values(received, name):
    """Values of header `name` (case-insensitive) in a /headers JSON document."""
    name = name.lower()
    return [v for n, v in received['headers'] if n.lower() == name]


def header_names(received):
    return [n.lower() for n, _ in received['headers']]


class ProxyingTest(PierTestCase):

    def start_one(self, **top):
        self.b1 = self.start_backend('b1')
        return self.start_pier(make_config({'app': upstream(self.b1)}, **top))

    def upstream_view(self, headers=(), host='pier.test', target='/headers'):
        """What the backend received for a GET through pier (its /headers JSON)."""
        r = self.get(target, headers, host=host)
        self.assertStatus(r, 200)
        return json.loads(r.body)

    def test_get_is_answered_with_backend_body_and_headers(self):
        self.start_one()
        r = self.get('/?header=X-Custom:hello')
        self.assertStatus(r, 200)
        self.assertEqual(r.body, b'b1\n')
        self.assertEqual(r.header('X-Backend'), 'b1')
        self.assertEqual(r.header('X-Custom'), 'hello')

    def test_request_target_and_method_reach_backend_unchanged(self):
        self.start_one()
        got = self.upstream_view(target='/headers?a=1&b=%20x')
        self.assertEqual(got['method'], 'GET')
        self.assertEqual(got['target'], '/headers?a=1&b=%20x')

    def test_content_length_body_reaches_backend(self):
        self.start_one()
        body = bytes(range(256)) * 300
        r = self.request('POST', '/echo', body=body)
        self.assertStatus(r, 200)
        self.assertEqual(r.header('X-Request-Method'), 'POST')
        self.assertEqual(r.body, body)

    def test_chunked_body_reaches_backend(self):
        self.start_one()
        pieces = [b'first piece ', b'x' * 70000, b' last']
        with self.connect() as c:
            c.send(b'PUT /echo HTTP/1.1\r\nHost: pier.test\r\nTransfer-Encoding: chunked\r\n\r\n')
            for p in pieces:
                c.send(b'%x\r\n%s\r\n' % (len(p), p))
            c.send(b'0\r\n\r\n')
            r = c.read_response('PUT')
        self.assertStatus(r, 200)
        self.assertEqual(r.body, b''.join(pieces))

    def test_status_and_response_headers_pass_through(self):
        self.start_one()
        r = self.get('/?status=418&header=X-A:1&header=X-B:two%20words')
        self.assertStatus(r, 418)
        self.assertEqual(r.header('X-A'), '1')
        self.assertEqual(r.header('X-B'), 'two words')

    # -- routing

    def start_routed(self, routes):
        self.api = self.start_backend('api')
        self.web = self.start_backend('web')
        return self.start_pier(make_config(
            {'api': upstream(self.api), 'web': upstream(self.web)}, routes=routes))

    def test_route_by_exact_host(self):
        self.start_routed([
            {'match': {'host': 'api.example.com', 'path_prefix': '/'}, 'upstream': 'api'},
            {'match': {'host': '*', 'path_prefix': '/'}, 'upstream': 'web'},
        ])
        self.assertEqual(self.get('/', host='api.example.com').header('X-Backend'), 'api')
        self.assertEqual(self.get('/', host='www.example.com').header('X-Backend'), 'web')
        self.assertEqual(self.get('/', host='api.example.com.evil').header('X-Backend'), 'web')

    def test_route_by_exact_host_ignores_port_in_host_header(self):
        # `curl http://api.example.com:8080/` sends "Host: api.example.com:8080"; the route's host
        # names the host, not the port (as nginx's server_name does).
        self.start_routed([
            {'match': {'host': 'api.example.com', 'path_prefix': '/'}, 'upstream': 'api'},
            {'match': {'host': '*', 'path_prefix': '/'}, 'upstream': 'web'},
        ])
        self.assertEqual(self.get('/', host='api.example.com:8080').header('X-Backend'), 'api')

    def test_route_by_host_is_case_insensitive(self):
        self.start_routed([
            {'match': {'host': 'api.example.com', 'path_prefix': '/'}, 'upstream': 'api'},
            {'match': {'host': '*', 'path_prefix': '/'}, 'upstream': 'web'},
        ])
        self.assertEqual(self.get('/', host='API.Example.COM').header('X-Backend'), 'api')

    def test_route_by_wildcard_host_suffix(self):
        self.start_routed([
            {'match': {'host': '*.example.com', 'path_prefix': '/'}, 'upstream': 'api'},
            {'match': {'host': '*', 'path_prefix': '/'}, 'upstream': 'web'},
        ])
        self.assertEqual(self.get('/', host='a.example.com').header('X-Backend'), 'api')
        self.assertEqual(self.get('/', host='shop.example.com').header('X-Backend'), 'api')
        self.assertEqual(self.get('/', host='example.org').header('X-Backend'), 'web')
        self.assertEqual(self.get('/', host='a.example.com.org').header('X-Backend'), 'web')
        self.assertEqual(self.get('/', host='notexample.com').header('X-Backend'), 'web')

    def test_route_by_path_prefix(self):
        # The specific route comes first, so first-match and longest-prefix agree.
        self.start_routed([
            {'match': {'host': '*', 'path_prefix': '/api/'}, 'upstream': 'api'},
            {'match': {'host': '*', 'path_prefix': '/'}, 'upstream': 'web'},
        ])
        self.assertEqual(self.get('/api/users').header('X-Backend'), 'api')
        self.assertEqual(self.get('/api/').header('X-Backend'), 'api')
        self.assertEqual(self.get('/').header('X-Backend'), 'web')
        self.assertEqual(self.get('/static/app.js').header('X-Backend'), 'web')
        self.assertEqual(self.get('/apx').header('X-Backend'), 'web')

    def test_request_without_matching_route_gets_404(self):
        self.start_routed([
            {'match': {'host': 'api.example.com', 'path_prefix': '/'}, 'upstream': 'api'},
            {'match': {'host': '*', 'path_prefix': '/web/'}, 'upstream': 'web'},
        ])
        r = self.get('/other', host='other.example.com')
        self.assertStatus(r, 404)
        self.assertIsNone(r.header('X-Backend'))
        self.assertEqual(self.api.stats()['requests'] + self.web.stats()['requests'], 0)
        # The connection stays usable after a 404.
        with self.connect() as c:
            self.assertStatus(c.get('/other', host='other.example.com'), 404)
            self.assertEqual(c.get('/web/x', host='other.example.com').header('X-Backend'), 'web')

    # -- forwarding headers

    def test_via_is_added_to_upstream_request(self):
        self.start_one()
        got = self.upstream_view()
        self.assertEqual(header_values(got, 'Via'), ['1.1 pier'])

    def test_via_is_appended_to_existing_via(self):
        self.start_one()
        got = self.upstream_view([('Via', '1.0 edge')])
        self.assertEqual(', '.join(header_values(got, 'Via')), '1.0 edge, 1.1 pier')

    def test_via_is_added_to_response(self):
        self.start_one()
        r = self.get('/')
        self.assertIn('1.1 pier', ', '.join(r.header_values('Via')))

    def test_via_pseudonym_is_configurable(self):
        self.start_one(http={'via': 'edge-7'})
        self.assertEqual(header_values(self.upstream_view(), 'Via'), ['1.1 edge-7'])

    def test_empty_via_pseudonym_disables_via(self):
        self.start_one(http={'via': ''})
        self.assertEqual(header_values(self.upstream_view(), 'Via'), [])

    def test_x_forwarded_proto_and_host_are_set(self):
        self.start_one()
        got = self.upstream_view(host='shop.example.com')
        self.assertEqual(header_values(got, 'X-Forwarded-Proto'), ['http'])
        self.assertEqual(header_values(got, 'X-Forwarded-Host'), ['shop.example.com'])

    def test_x_forwarded_for_is_appended_for_trusted_peer(self):
        self.start_one(trusted_proxies=['127.0.0.0/8'])
        got = self.upstream_view([('X-Forwarded-For', '203.0.113.7')])
        self.assertEqual(', '.join(header_values(got, 'X-Forwarded-For')), '203.0.113.7, 127.0.0.1')

    def test_x_forwarded_for_is_set_when_absent(self):
        self.start_one(trusted_proxies=['127.0.0.0/8'])
        got = self.upstream_view()
        self.assertEqual(header_values(got, 'X-Forwarded-For'), ['127.0.0.1'])

    def test_x_forwarded_for_is_replaced_for_untrusted_peer(self):
        self.start_one(trusted_proxies=[])
        got = self.upstream_view([('X-Forwarded-For', '203.0.113.7'),
                                  ('X-Forwarded-For', '198.51.100.1')])
        self.assertEqual(header_values(got, 'X-Forwarded-For'), ['127.0.0.1'])

    def test_x_forwarded_for_is_replaced_when_trusted_range_does_not_cover_peer(self):
        self.start_one(trusted_proxies=['10.0.0.0/8'])
        got = self.upstream_view([('X-Forwarded-For', '203.0.113.7')])
        self.assertEqual(header_values(got, 'X-Forwarded-For'), ['127.0.0.1'])

    # -- hop-by-hop

    def test_hop_by_hop_request_headers_are_removed(self):
        self.start_one()
        got = self.upstream_view([
            ('Connection', 'keep-alive, X-Secret-Hop'),
            ('Keep-Alive', 'timeout=77'),
            ('Proxy-Connection', 'keep-alive'),
            ('TE', 'gzip;q=0.3'),
            ('Trailer', 'X-Client-Trailer'),
            ('X-Secret-Hop', 'must not pass'),
            ('X-End-To-End', 'must pass'),
        ])
        names = header_names(got)
        self.assertEqual(header_values(got, 'X-End-To-End'), ['must pass'])
        self.assertNotIn('x-secret-hop', names, 'a header named in Connection was forwarded')
        self.assertNotIn('proxy-connection', names)
        self.assertNotIn('trailer', names)
        self.assertNotIn('timeout=77', header_values(got, 'Keep-Alive'))
        self.assertNotIn('gzip;q=0.3', header_values(got, 'TE'))
        for v in header_values(got, 'Connection'):
            self.assertNotIn('x-secret-hop', v.lower(), "the client's Connection header was forwarded")

    def test_hop_by_hop_response_headers_are_removed(self):
        self.start_one()
        r = self.get('/?header=Connection:X-Resp-Hop&header=X-Resp-Hop:secret'
                     '&header=Keep-Alive:timeout%3D99&header=Proxy-Connection:keep-alive'
                     '&header=Trailer:X-Foo&header=Upgrade:foo%2F1&header=X-Resp-Kept:yes')
        self.assertStatus(r, 200)
        self.assertEqual(r.body, b'b1\n')
        self.assertEqual(r.header('X-Resp-Kept'), 'yes')
        self.assertIsNone(r.header('X-Resp-Hop'), 'a header named in Connection was forwarded')
        self.assertIsNone(r.header('Proxy-Connection'))
        self.assertIsNone(r.header('Trailer'))
        self.assertIsNone(r.header('Upgrade'))
        self.assertNotIn('timeout=99', r.header_values('Keep-Alive'))
        for v in r.header_values('Connection'):
            self.assertNotIn('x-resp-hop', v.lower(), "the backend's Connection header was forwarded")

    def test_transfer_encoding_is_reframed_not_forwarded(self):
        # A chunked request body is forwarded as a body, not as the client's framing headers verbatim:
        # the backend sees exactly one framing header (Content-Length or chunked), and the body.
        self.start_one()
        with self.connect() as c:
            c.send(b'POST /headers HTTP/1.1\r\nHost: pier.test\r\n'
                   b'Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n')
            r = c.read_response('POST')
        got = json.loads(r.body)
        te = header_values(got, 'Transfer-Encoding')
        cl = header_values(got, 'Content-Length')
        self.assertTrue((te and not cl) or (cl and not te), 'framing headers at the backend: TE %r, CL %r'
                        % (te, cl))
        if te:
            self.assertEqual([v.lower() for v in te], ['chunked'])
        else:
            self.assertEqual(cl, ['5'])


if __name__ == '__main__':
    unittest.main()
