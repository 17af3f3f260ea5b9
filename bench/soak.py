#!/usr/bin/env python3
"""Soak: Pier under mixed traffic for a long while, sampled every few seconds.

Traffic (threads of keep-alive clients, all to 127.0.0.1): pass-through GETs, cache hits and
misses, requests over a rate limit (429 is expected), 8 KiB uploads with an Idempotency-Key, while
one of three backends is killed and restarted every 30 s. Every interval it samples Pier's RSS,
open descriptors, the interval's p99 and the errors (any answer but 2xx, or 429 on the limited
route) into a CSV, and plots it with gnuplot when gnuplot is installed.

Pass: RSS and descriptors flat (the last window within 5% of the second one; descriptors also
within 8, the pool's share of a flapping backend) and no unexpected error. Exit 0 on a pass.

    bench/soak.py [--seconds 600] [--interval 10] [--out DIR] [--pier build/pier]
"""

import argparse
import os
import pathlib
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
DEMO = ROOT / 'tools' / 'demo_backend.py'
CLIENTS = 8


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def start_backend(name, port, log):
    p = subprocess.Popen([sys.executable, str(DEMO), '--name', name, '--port', str(port)],
                         stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL)
    p.stdout.readline()  # "listening PORT"
    return p


CONFIG = '''workers: 2
listeners: [{{name: public, address: "127.0.0.1:{port}"}}]
admin: {{address: "127.0.0.1:{admin}"}}
upstreams:
  app:
    backends: [{{address: "127.0.0.1:{b1}"}}, {{address: "127.0.0.1:{b2}"}}, {{address: "127.0.0.1:{b3}"}}]
    retry: {{budget: 50%, idempotency_key: true}}
    outlier: {{consecutive_failures: 3, base_ejection: 5s}}
routes:
  - {{match: {{host: "*", path_prefix: /cached/}}, upstream: app, cache: small}}
  - {{match: {{host: "*", path_prefix: /limited/}}, upstream: app, rate_limit: tight}}
  - {{match: {{host: "*", path_prefix: /}}, upstream: app}}
caches:
  small: {{store: memory, max_bytes: 4MiB, max_object: 64KiB}}
rate_limits:
  tight: {{key: client_ip, rate: 20/s, burst: 20, store: local}}
'''


def read_response(sock, buf):
    """One response (Content-Length bodies only: all the soak asks for). Returns status, rest."""
    while b'\r\n\r\n' not in buf:
        data = sock.recv(65536)
        if not data:
            raise ConnectionError('closed')
        buf += data
    head, _, rest = buf.partition(b'\r\n\r\n')
    status = int(head[9:12])
    length = 0
    for line in head.split(b'\r\n')[1:]:
        name, _, value = line.partition(b':')
        if name.strip().lower() == b'content-length':
            length = int(value)
    while len(rest) < length:
        data = sock.recv(65536)
        if not data:
            raise ConnectionError('closed mid-body')
        rest += data
    return status, rest[length:]


class Traffic:
    def __init__(self, port):
        self.port = port
        self.lock = threading.Lock()
        self.samples = []      # (seconds, ok, kind) since the last take()
        self.unexpected = []
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.client, args=(i,), daemon=True)
                        for i in range(CLIENTS)]

    def request(self, rng, n):
        kind = rng.choice(['pass', 'pass', 'hit', 'hit', 'miss', 'limited', 'upload'])
        if kind == 'pass':
            return kind, b'GET /?size=2000 HTTP/1.1\r\nHost: soak\r\n\r\n'
        if kind == 'hit':
            return kind, (b'GET /cached/?k=%d&header=Cache-Control:max-age%%3D5 HTTP/1.1\r\n'
                          b'Host: soak\r\n\r\n' % rng.randrange(50))
        if kind == 'miss':
            return kind, (b'GET /cached/?u=%d&size=4000&header=Cache-Control:max-age%%3D5 HTTP/1.1\r\n'
                          b'Host: soak\r\n\r\n' % rng.randrange(1 << 40))
        if kind == 'limited':
            return kind, b'GET /limited/ HTTP/1.1\r\nHost: soak\r\n\r\n'
        body = b'x' * 8192
        return kind, (b'POST /echo HTTP/1.1\r\nHost: soak\r\nIdempotency-Key: %d\r\n'
                      b'Content-Length: %d\r\n\r\n' % (n, len(body)) + body)

    def client(self, i):
        rng = random.Random(i)
        sock, buf, n = None, b'', 0
        while not self.stop.is_set():
            kind, data = self.request(rng, i * 10**9 + n)
            n += 1
            start = time.monotonic()
            try:
                if sock is None:
                    sock = socket.create_connection(('127.0.0.1', self.port), timeout=10)
                    buf = b''
                sock.sendall(data)
                status, buf = read_response(sock, buf)
            except OSError as e:
                status = type(e).__name__
                if sock is not None:
                    sock.close()
                sock = None
            ok = status in (200, 201) or (kind == 'limited' and status == 429)
            with self.lock:
                self.samples.append((time.monotonic() - start, ok, kind))
                if not ok:
                    self.unexpected.append((time.time(), kind, status))

    def take(self):
        with self.lock:
            s, self.samples = self.samples, []
        return s


def rss_kib(pid):
    for line in open('/proc/%d/status' % pid):
        if line.startswith('VmRSS:'):
            return int(line.split()[1])
    return 0


def fds(pid):
    return len(os.listdir('/proc/%d/fd' % pid))


def p99(values):
    if not values:
        return 0.0
    v = sorted(values)
    return v[min(len(v) - 1, int(len(v) * 0.99))]


def plot(csv, png):
    script = '''set terminal pngcairo size 1000,700
set output "{png}"
set datafile separator ","
set multiplot layout 3,1 title "Pier soak"
set key left top
set xlabel "seconds"
set ylabel "RSS (KiB)"
plot "{csv}" using 1:2 skip 1 with linespoints title "RSS"
set ylabel "open descriptors"
plot "{csv}" using 1:3 skip 1 with linespoints title "FDs"
set ylabel "p99 (ms)"
plot "{csv}" using 1:5 skip 1 with linespoints title "p99", "{csv}" using 1:6 skip 1 with impulses title "errors"
unset multiplot
'''.format(csv=csv, png=png)
    try:
        subprocess.run(['gnuplot'], input=script.encode(), check=True)
        return True
    except (OSError, subprocess.CalledProcessError) as e:
        print('soak: no plot (%s)' % e)
        return False


def flat(rows, column, tolerance, slack=0):
    """The last window's mean within `tolerance` (or `slack`) of the second window's mean."""
    window = max(1, len(rows) // 10 if len(rows) < 60 else 6)
    second = rows[window:2 * window]
    last = rows[-window:]
    a = sum(r[column] for r in second) / len(second)
    b = sum(r[column] for r in last) / len(last)
    return abs(b - a) <= max(tolerance * a, slack), a, b


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--seconds', type=int, default=600)
    ap.add_argument('--interval', type=int, default=10)
    ap.add_argument('--flap', type=int, default=30, help='seconds between backend kills')
    ap.add_argument('--out', default=str(ROOT / 'bench' / 'results'))
    ap.add_argument('--pier', default=str(ROOT / 'build' / 'pier'))
    args = ap.parse_args()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    work = pathlib.Path(tempfile.mkdtemp(prefix='pier-soak.'))
    log = open(work / 'backends.log', 'wb')
    ports = {'b1': free_port(), 'b2': free_port(), 'b3': free_port()}
    backends = {name: start_backend(name, port, log) for name, port in ports.items()}
    port, admin = free_port(), free_port()
    (work / 'pier.yaml').write_text(CONFIG.format(port=port, admin=admin, **ports))
    pier = subprocess.Popen([args.pier, '--config', str(work / 'pier.yaml')],
                            stdout=open(work / 'pier.log', 'wb'), stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(('127.0.0.1', port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.05)
    traffic = Traffic(port)
    for t in traffic.threads:
        t.start()
    rows = []
    start = time.monotonic()
    next_flap = start + args.flap
    flapped = None
    try:
        while time.monotonic() - start < args.seconds:
            time.sleep(max(0.0, start + (len(rows) + 1) * args.interval - time.monotonic()))
            now = time.monotonic()
            if now >= next_flap:
                if flapped is None:
                    backends['b3'].send_signal(signal.SIGKILL)   # by PID: ours
                    backends['b3'].wait()
                    flapped = 'b3'
                else:
                    backends['b3'] = start_backend('b3', ports['b3'], log)
                    flapped = None
                next_flap = now + args.flap / 2
            samples = traffic.take()
            with traffic.lock:
                errors = len(traffic.unexpected)
            row = (round(now - start), rss_kib(pier.pid), fds(pier.pid), len(samples),
                   round(p99([s[0] for s in samples]) * 1e3, 2), errors)
            rows.append(row)
            print('t=%4ds rss=%6d KiB fds=%4d requests=%6d p99=%6.2f ms errors=%d' % row, flush=True)
    finally:
        traffic.stop.set()
        for t in traffic.threads:
            t.join(15)
        pier.send_signal(signal.SIGTERM)
        pier.wait(15)
        for p in backends.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                p.wait(5)
    csv = out / 'soak.csv'
    with open(csv, 'w') as f:
        f.write('seconds,rss_kib,fds,requests,p99_ms,errors\n')
        for r in rows:
            f.write(','.join(str(x) for x in r) + '\n')
    plot(csv, out / 'soak.png')
    rss_ok, rss_a, rss_b = flat(rows, 1, 0.05)
    fds_ok, fd_a, fd_b = flat(rows, 2, 0.05, slack=8)
    total = sum(r[3] for r in rows)
    print('soak: %d requests in %d s; RSS %.0f -> %.0f KiB (%s), FDs %.1f -> %.1f (%s), '
          '%d unexpected errors'
          % (total, args.seconds, rss_a, rss_b, 'flat' if rss_ok else 'GREW',
             fd_a, fd_b, 'flat' if fds_ok else 'GREW', len(traffic.unexpected)))
    for e in traffic.unexpected[:10]:
        print('  unexpected: %r' % (e,))
    ok = rss_ok and fds_ok and not traffic.unexpected and total > 0
    print('soak: %s (csv %s)' % ('PASSED' if ok else 'FAILED', csv))
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
