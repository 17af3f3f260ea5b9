#!/usr/bin/env python3
"""Holds many idle keep-alive connections open to a proxy (bench/run's memory mode).

Opens --count connections to 127.0.0.1:--port in batches, sends one GET --path on each and reads
the whole response (Content-Length framed), then keeps them open and idle. Protocol on stdio:
prints "ready OPENED OK ERRORS"; on a "check" line it prints "open N" (connections the proxy has
not closed); on "close" or end of input it closes everything and exits.
"""
import argparse
import socket
import sys


def read_response(s):
    """Reads one response; returns its status code (0 if it was incomplete)."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            return 0
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(rest) < length:
        chunk = s.recv(65536)
        if not chunk:
            return 0
        rest += chunk
    return status


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--path", default="/100b")
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--batch", type=int, default=100)
    a = ap.parse_args()
    request = f"GET {a.path} HTTP/1.1\r\nHost: 127.0.0.1:{a.port}\r\n\r\n".encode()
    socks, ok, errors = [], 0, 0
    while len(socks) + errors < a.count:
        batch = []
        for _ in range(min(a.batch, a.count - len(socks) - errors)):
            try:
                s = socket.create_connection(("127.0.0.1", a.port), timeout=10)
                s.sendall(request)
                batch.append(s)
            except OSError:
                errors += 1
        for s in batch:
            try:
                status = read_response(s)
            except (OSError, ValueError, IndexError):
                status = 0
            if 200 <= status < 300:
                ok += 1
                socks.append(s)
            else:
                errors += 1
                s.close()
    print(f"ready {len(socks)} {ok} {errors}", flush=True)
    for line in sys.stdin:
        if line.strip() == "check":
            still_open = 0
            for s in socks:
                s.setblocking(False)
                try:
                    data = s.recv(1, socket.MSG_PEEK)
                    still_open += 0 if data == b"" else 1  # b"": the proxy closed it
                except BlockingIOError:
                    still_open += 1
                except OSError:
                    pass
            print(f"open {still_open}", flush=True)
        else:
            break
    for s in socks:
        s.close()


if __name__ == "__main__":
    main()
