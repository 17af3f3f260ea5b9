#!/usr/bin/env python3
"""Self test for tools/demo_backend.py: starts backends on free ports (127.0.0.1) and checks
their byte-level behaviour against docs/demo-backend.md. Standard library only; runs in a few
seconds; exits non-zero on the first failure.

SPDX-License-Identifier: MIT
"""

import base64
import hashlib
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BACKEND = os.path.join(HERE, "demo_backend.py")
PATTERN = b"abcdefghijklmnopqrstuvwxyz\n"


def pattern(n):
    return (PATTERN * (n // len(PATTERN) + 1))[:n]


class Backend:
    """A demo backend subprocess; stopped with SIGTERM (and its exit status checked)."""

    def __init__(self, *args):
        self.proc = subprocess.Popen([sys.executable, BACKEND, "--port", "0", *args],
                                     stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        assert line.startswith("listening "), line
        self.port = int(line.split()[1])

    def connect(self):
        return Conn(self.port)

    def stop(self):
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=5)
        assert code == 0, "exit status %r" % code
        assert time.monotonic() - started < 2, "slow to exit"


class Response:
    def __init__(self, status, reason, headers, body, trailers, raw_head):
        self.status, self.reason, self.headers = status, reason, headers
        self.body, self.trailers, self.raw_head = body, trailers, raw_head

    def header(self, name):
        values = [v for n, v in self.headers if n.lower() == name.lower()]
        return values[0] if values else None


class Conn:
    """A blocking HTTP/1.1 client over one socket, with a response parser of its own."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def request(self, target, method="GET", headers=(), body=b"", version="HTTP/1.1"):
        head = "%s %s %s\r\nHost: test\r\n" % (method, target, version)
        head += "".join("%s: %s\r\n" % h for h in headers)
        if body and not any(h[0].lower() == "transfer-encoding" for h in headers):
            head += "Content-Length: %d\r\n" % len(body)
        self.send(head.encode() + b"\r\n" + body)

    def _fill(self):
        data = self.sock.recv(1 << 20)
        if not data:
            raise EOFError
        self.buf += data

    def read_exact(self, n):
        while len(self.buf) < n:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def read_line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def read_until_eof(self):
        try:
            while True:
                self._fill()
        except EOFError:
            data, self.buf = self.buf, b""
            return data

    def at_eof(self, timeout=2.0):
        """True if the server closed the connection (without sending anything more)."""
        self.sock.settimeout(timeout)
        try:
            return not self.buf and self.sock.recv(1) == b""
        except ConnectionResetError:
            return True
        finally:
            self.sock.settimeout(5)

    def read_head(self):
        lines = []
        while True:
            line = self.read_line()
            if not line:
                break
            lines.append(line)
        version, status, reason = lines[0].decode().split(" ", 2)
        headers = [tuple(x.decode().split(": ", 1)) for x in lines[1:]]
        return int(status), reason, headers, b"\r\n".join(lines)

    def response(self, head_request=False):
        status, reason, headers, raw = self.read_head()
        resp = Response(status, reason, headers, b"", [], raw)
        if head_request or status < 200 or status in (204, 304):
            return resp
        if resp.header("Transfer-Encoding") == "chunked":
            body = []
            while True:
                size = int(self.read_line().split(b";")[0], 16)
                if size == 0:
                    break
                body.append(self.read_exact(size))
                assert self.read_exact(2) == b"\r\n"
            while True:
                line = self.read_line()
                if not line:
                    break
                resp.trailers.append(tuple(line.decode().split(": ", 1)))
            resp.body = b"".join(body)
        elif resp.header("Content-Length") is not None:
            resp.body = self.read_exact(int(resp.header("Content-Length")))
        else:
            resp.body = self.read_until_eof()
        return resp

    def get(self, target, **kw):
        self.request(target, **kw)
        return self.response(head_request=kw.get("method") == "HEAD")

    def close(self):
        self.sock.close()


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def stats(backend):
    c = backend.connect()
    try:
        return json.loads(c.get("/stats").body)
    finally:
        c.close()


# --------------------------------------------------------------------------------------------


def test_basics(b):
    c = b.connect()
    r = c.get("/")
    check(r.status == 200 and r.body == b"b1\n" and r.header("X-Backend") == "b1", "default")
    check(r.header("Content-Length") == "3", "default length")
    # keep-alive: the same socket serves more requests
    check(c.get("/?status=201").status == 201, "status=201")
    r = c.get("/?size=100000")
    check(r.body == pattern(100000), "size body")
    r = c.get("/?size=200000&chunked=1&trailer=1")
    check(r.body == pattern(200000) and r.trailers == [("X-Trailer", "done")], "chunked+trailer")
    r = c.get("/?status=204")
    check(r.status == 204 and r.header("Content-Length") is None, "204")
    r = c.get("/?status=304&size=10")
    check(r.status == 304 and r.header("Content-Length") is None, "304")
    r = c.get("/?header=X-One:1&header=X-Two:%20two%20")
    check(r.header("X-One") == "1" and r.header("X-Two") == "two", "header=")
    r = c.get("/?size=1234", method="HEAD")
    check(r.header("Content-Length") == "1234" and r.body == b"", "HEAD")
    r = c.get("/", method="HEAD")
    check(r.header("Content-Length") == "3", "HEAD default")
    check(c.get("/?size=x").status == 400, "bad param -> 400")
    check(c.at_eof(), "closed after 400")
    c.close()

    c = b.connect()
    started = time.monotonic()
    check(c.get("/?delay=200").status == 200, "delay")
    check(time.monotonic() - started >= 0.2, "delay waited")
    c.close()


def test_pipelining(b):
    c = b.connect()
    c.send(b"GET /?size=5 HTTP/1.1\r\nHost: x\r\n\r\n"
           b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nxyz"
           b"POST /sink HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
           b"3;ext=1\r\nabc\r\n0\r\n\r\n"
           b"GET /headers HTTP/1.1\r\nHost: x\r\nX-Mixed-CASE: v\r\n\r\n")
    check(c.response().body == b"abcde", "pipelined 1")
    r = c.response()
    check(r.body == b"xyz" and r.header("X-Request-Method") == "POST", "pipelined 2")
    check(json.loads(c.response().body) == {"bytes": 3}, "pipelined 3")
    info = json.loads(c.response().body)
    check(info["headers"] == [["Host", "x"], ["X-Mixed-CASE", "v"]], "pipelined 4")
    c.close()


def test_http10_and_close(b):
    c = b.connect()
    r = c.get("/", version="HTTP/1.0")
    check(r.header("Connection") == "close" and c.at_eof(), "1.0 closes")
    c = b.connect()
    r = c.get("/", version="HTTP/1.0", headers=[("Connection", "keep-alive")])
    check(r.header("Connection") == "keep-alive", "1.0 keep-alive")
    r = c.get("/?size=10&chunked=1", version="HTTP/1.0", headers=[("Connection", "keep-alive")])
    check(r.body == pattern(10) and r.header("Transfer-Encoding") is None, "1.0 no chunked")
    c = b.connect()
    r = c.get("/", headers=[("Connection", "close")])
    check(r.header("Connection") == "close" and c.at_eof(), "Connection: close")
    c = b.connect()
    r = c.get("/?header=Connection:close")
    check(r.header("Connection") == "close" and c.at_eof(), "header=Connection:close")


def test_close_and_bad(b):
    c = b.connect()
    c.request("/?close=early", method="POST", body=b"x" * 1000)
    check(c.read_until_eof() == b"", "close=early")
    c = b.connect()
    c.request("/?close=mid&size=1000")
    status, _, headers, _ = c.read_head()
    check(("Content-Length", "1000") in headers, "close=mid length")
    check(c.read_until_eof() == pattern(500), "close=mid half")
    c = b.connect()
    c.request("/?close=stall&size=1000")
    status, _, headers, _ = c.read_head()
    check(("Content-Length", "1000") in headers, "close=stall length")
    check(c.read_exact(500) == pattern(500), "close=stall half")
    c.sock.settimeout(0.5)
    try:
        more = c.sock.recv(1)
    except socket.timeout:
        more = None
    check(more is None, "close=stall sends nothing more")
    c.sock.shutdown(socket.SHUT_WR)  # the backend hangs up once the client has
    c.sock.settimeout(5)
    check(c.read_until_eof() == b"", "close=stall ends with the client")
    c = b.connect()
    c.request("/?size=10&after=x%0D%0Ay")
    status, _, headers, _ = c.read_head()
    check(c.read_exact(10) == pattern(10) and c.read_exact(4) == b"x\r\ny", "after=")
    c = b.connect()
    c.request("/?bad=1")
    check(c.read_until_eof().startswith(b"HTTP/1.1 2x0 Nope\r\n"), "bad=1")


def test_special_paths(b):
    c = b.connect()
    r = c.get("/echo", method="PUT", body=b"hello", headers=[("Content-Type", "text/x")])
    check(r.body == b"hello" and r.header("Content-Length") == "5", "echo length")
    check(r.header("X-Request-Method") == "PUT", "echo method")
    c.request("/echo", method="POST", headers=[("Transfer-Encoding", "chunked")])
    c.send(b"5\r\nhello\r\n6\r\n world\r\n0\r\nX-T: 1\r\n\r\n")
    r = c.response()
    check(r.body == b"hello world" and r.header("Transfer-Encoding") == "chunked", "echo chunked")
    check(r.trailers == [("X-T", "1")], "echo trailers")
    r = c.get("/echo")
    check(r.body == b"" and r.header("Content-Length") == "0", "echo empty")
    r = c.get("/sink", method="POST", body=b"z" * 70000)
    check(json.loads(r.body) == {"bytes": 70000}, "sink")
    c.send(b"POST /headers?a=1 HTTP/1.1\r\nhost: h\r\nX-Dup: 1\r\nx-dup:  2 \r\n"
           b"Transfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\nX-Tr: t\r\n\r\n")
    info = json.loads(c.response().body)
    check(info["method"] == "POST" and info["target"] == "/headers?a=1", "headers target")
    check(info["version"] == "HTTP/1.1", "headers version")
    check(info["headers"] == [["host", "h"], ["X-Dup", "1"], ["x-dup", "2"],
                              ["Transfer-Encoding", "chunked"]], "headers list")
    check(info["trailers"] == [["X-Tr", "t"]], "headers trailers")
    # Expect: 100-continue: the interim response comes before we send the body
    c.request("/sink", method="POST", headers=[("Expect", "100-continue"),
                                               ("Content-Length", "4")])
    check(c.read_line() == b"HTTP/1.1 100 Continue" and c.read_line() == b"", "100 continue")
    c.send(b"abcd")
    check(json.loads(c.response().body) == {"bytes": 4}, "body after 100")
    c.close()


def test_health_and_control(b):
    c = b.connect()
    r = c.get("/healthz")
    check(r.status == 200 and r.body == b"ok", "healthz")
    c.get("/control?healthy=0")
    check(c.get("/healthz").status == 503, "unhealthy")
    c.get("/control?healthy=1")
    check(c.get("/healthz").status == 200, "healthy again")
    c.get("/control?fail=1")
    check(c.get("/").status == 503 and c.get("/echo").status == 503, "fail=1")
    check(c.get("/stats").status == 200, "stats while failing")
    c.get("/control?fail=0")
    check(c.get("/").status == 200, "fail=0")
    check(c.get("/control?fail=2").status == 400, "control validation")
    c.close()


def test_stats():
    b = Backend("--name", "s1")
    try:
        c = b.connect()
        c.get("/")
        c.get("/control?healthy=1")
        s = stats(b)
        check(s == {"name": "s1", "connections": 2, "active_connections": 2, "requests": 1,
                    "in_flight": 0}, "stats %r" % s)
        slow = b.connect()
        slow.request("/?delay=500")
        time.sleep(0.2)
        s = stats(b)
        check(s["in_flight"] == 1 and s["requests"] == 2 and s["active_connections"] == 3,
              "in flight %r" % s)
        slow.response()
        slow.close()
        c.close()
        time.sleep(0.1)
        s = stats(b)
        check(s["in_flight"] == 0 and s["active_connections"] == 1 and s["connections"] == 5,
              "after %r" % s)
    finally:
        b.stop()


def test_malformed(b):
    cases = [
        (b"GARBAGE\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\n\r\n", 400),  # no Host
        (b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505),
        (b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n folded\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: x\r\nBad Name: a\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: x\r\nExpect: magic\r\n\r\n", 417),
        (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
        (b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X: y\r\n" * 200 + b"\r\n", 431),
    ]
    for raw, status in cases:
        c = b.connect()
        c.send(raw)
        r = c.response()
        check(r.status == status and r.header("Connection") == "close",
              "%r -> %d" % (raw[:40], r.status))
        check(c.at_eof(), "closed after error")
    # tolerated: empty lines before the request line, bare LF line ends, CL list of equal values
    c = b.connect()
    c.send(b"\r\nGET / HTTP/1.1\nHost: x\n\n")
    check(c.response().body == b"b1\n", "bare LF")
    c.send(b"POST /sink HTTP/1.1\r\nHost: x\r\nContent-Length: 2, 2\r\n\r\nab")
    check(json.loads(c.response().body) == {"bytes": 2}, "CL list")
    # Content-Length plus Transfer-Encoding: chunked wins, connection closed afterwards
    c = b.connect()
    c.send(b"POST /sink HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n"
           b"Transfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n")
    r = c.response()
    check(json.loads(r.body) == {"bytes": 2} and r.header("Connection") == "close", "CL+TE")


def test_streaming(b):
    """8 MiB through /echo while reading concurrently; 8 MiB chunked download."""
    size = 8 << 20
    c = b.connect()
    c.request("/echo", method="POST", headers=[("Content-Length", str(size))])
    payload = pattern(size)
    sender = threading.Thread(target=c.send, args=(payload,))
    sender.start()
    r = c.response()
    sender.join()
    check(r.body == payload, "echo 8 MiB")
    r = c.get("/?size=%d&chunked=1" % size)
    check(r.body == payload, "download 8 MiB")
    c.close()


def ws_frame(opcode, payload, fin=True, mask=b"\x01\x02\x03\x04"):
    head = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack("!H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", n)
    masked = bytes(x ^ mask[i % 4] for i, x in enumerate(payload))
    return head + mask + masked


def ws_read(c):
    first, second = c.read_exact(2)
    check(not second & 0x80, "server frames are unmasked")
    n = second & 0x7F
    if n == 126:
        (n,) = struct.unpack("!H", c.read_exact(2))
    elif n == 127:
        (n,) = struct.unpack("!Q", c.read_exact(8))
    return first & 0x80, first & 0x0F, c.read_exact(n)


def test_websocket(b):
    c = b.connect()
    key = base64.b64encode(os.urandom(16)).decode()
    c.request("/ws", headers=[("Upgrade", "websocket"), ("Connection", "Upgrade"),
                              ("Sec-WebSocket-Key", key), ("Sec-WebSocket-Version", "13")])
    status, _, headers, _ = c.read_head()
    expected = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")
                                             .encode()).digest()).decode()
    check(status == 101 and ("Sec-WebSocket-Accept", expected) in headers, "ws handshake")
    c.send(ws_frame(1, b"hello"))
    check(ws_read(c) == (0x80, 1, b"hello"), "ws text")
    c.send(ws_frame(2, b"ab", fin=False) + ws_frame(9, b"p") + ws_frame(0, b"cd"))
    check(ws_read(c) == (0, 2, b"ab"), "ws fragment 1")
    check(ws_read(c) == (0x80, 10, b"p"), "ws pong")
    check(ws_read(c) == (0x80, 0, b"cd"), "ws fragment 2")
    big = os.urandom(300000)
    c.send(ws_frame(2, big))
    check(ws_read(c) == (0x80, 2, big), "ws big frame")
    c.send(ws_frame(8, struct.pack("!H", 1000) + b"bye"))
    check(ws_read(c) == (0x80, 8, struct.pack("!H", 1000)), "ws close")
    check(c.at_eof(), "ws closed")
    c = b.connect()
    check(c.get("/ws").status == 400, "plain GET /ws")
    r = c.get("/ws", headers=[("Upgrade", "websocket"), ("Connection", "Upgrade"),
                              ("Sec-WebSocket-Key", key), ("Sec-WebSocket-Version", "8")])
    check(r.status == 426 and r.header("Sec-WebSocket-Version") == "13", "ws version")


def test_options():
    b = Backend("--name", "o1", "--idle-close-ms", "200", "--max-requests-per-conn", "2",
                "--delay-ms", "50")
    try:
        c = b.connect()
        started = time.monotonic()
        r = c.get("/")
        check(time.monotonic() - started >= 0.05, "--delay-ms")
        r = c.get("/")
        check(r.header("Connection") is None, "no Connection: close on the last response")
        check(c.at_eof(), "--max-requests-per-conn")
        c = b.connect()
        c.get("/")
        started = time.monotonic()
        check(c.at_eof(), "--idle-close-ms")
        check(0.15 <= time.monotonic() - started < 1, "idle close timing")
    finally:
        b.stop()


def main():
    started = time.monotonic()
    b = Backend("--name", "b1")
    try:
        for test in (test_basics, test_pipelining, test_http10_and_close, test_close_and_bad,
                     test_special_paths, test_health_and_control, test_malformed,
                     test_streaming, test_websocket):
            test(b)
            print("ok", test.__name__)
    finally:
        b.stop()
    test_stats()
    print("ok test_stats")
    test_options()
    print("ok test_options")
    print("all passed in %.1f s" % (time.monotonic() - started))


if __name__ == "__main__":
    try:
        main()
    except Exception as err:  # noqa: BLE001 - report any failure as a non-zero exit
        import traceback
        traceback.print_exc()
        print("FAILED:", err, file=sys.stderr)
        sys.exit(1)
