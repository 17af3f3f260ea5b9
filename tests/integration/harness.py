"""Black-box harness for Pier's integration tests (Python 3 standard library only).

What it gives a test:
  * processes: demo backends (`tools/demo_backend.py`) and one or more pier processes, each started
    with a bounded wait for readiness and stopped by PID in teardown (SIGTERM, then SIGKILL);
  * configs: a tiny YAML emitter, so a test writes its config as a Python dict;
  * raw HTTP/1.1 over sockets (`Conn`): send exact bytes, read one response with its framing
    (Content-Length, chunked with trailers, close-delimited, no body for HEAD/1xx/204/304), read
    until close, check how a connection ended;
  * on a failed test, pier's stderr, the config and the backends' stderr are printed to stderr, so
    they end up in ctest's output.

Environment:
  PIER_BIN            pier binary (default: <repo>/build/pier)
  PIER_DEMO_BACKEND   demo backend script (default: <repo>/tools/demo_backend.py)
  PIER_LOG_LEVEL      pier's --log-level (default: info)
  PIER_TEST_KEEP_TMP  1: keep each test's temp dir (configs, logs) and print its path
  PIER_TEST_VERBOSE   1: print pier's stderr after every test, not only failed ones

Only 127.0.0.1 is used. Every wait is bounded.
"""

import json
import os
import pathlib
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
PIER_BIN = os.environ.get('PIER_BIN') or str(REPO_ROOT / 'build' / 'pier')
DEMO_BACKEND = os.environ.get('PIER_DEMO_BACKEND') or str(REPO_ROOT / 'tools' / 'demo_backend.py')
LOG_LEVEL = os.environ.get('PIER_LOG_LEVEL') or 'info'
REDIS_SERVER = shutil.which('redis-server') or '/usr/bin/redis-server'
# scripts/test starts one redis-server for the suite and names it here ('127.0.0.1:PORT');
# tests that stop or pause Redis start their own (PierTestCase.start_redis).
SHARED_REDIS = os.environ.get('PIER_TEST_REDIS')
# scripts/test sets this for the AddressSanitizer pass, whose allocator keeps freed memory in
# quarantine: RSS figures mean nothing there.
SANITIZED = os.environ.get('PIER_SANITIZED') == '1'
KEEP_TMP = os.environ.get('PIER_TEST_KEEP_TMP') == '1'
VERBOSE = os.environ.get('PIER_TEST_VERBOSE') == '1'

HOST = '127.0.0.1'
START_TIMEOUT = 10.0       # a backend's "listening" line / pier's listener accepting
IO_TIMEOUT = 15.0          # any single socket read or write in a test
STOP_TIMEOUT = 8.0         # SIGTERM -> exit, before SIGKILL (default shutdown_timeout below is 5s)

# The demo backend's body pattern for `size=N`.
PATTERN = b'abcdefghijklmnopqrstuvwxyz\n'

# What AddressSanitizer, UndefinedBehaviorSanitizer and LeakSanitizer print when they find a bug.
SANITIZER_MARKERS = ('ERROR: AddressSanitizer', 'ERROR: LeakSanitizer', 'runtime error:',
                     'WARNING: ThreadSanitizer')

# Signals that mean the process crashed rather than was stopped.
CRASH_SIGNALS = {signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS, signal.SIGILL, signal.SIGFPE}


# --------------------------------------------------------------------------------------------
# Small utilities

_ISSUED_PORTS = set()  # every port free_port() returned in this process


def free_port():
    """A port on 127.0.0.1 that nothing listens on right now.

    Chosen below the kernel's ephemeral range (32768..60999), so that an outgoing connection (pier
    to a backend, a test to pier) cannot be holding it by the time pier binds it. Never the same
    port twice in one test process: a config's listener and admin address once drew the same one
    (nothing holds a port between the draw and pier's start).
    """
    for _ in range(200):
        port = random.randint(20000, 32000)
        if port in _ISSUED_PORTS:
            continue  # handed out already: two of one config's addresses must not collide
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind((HOST, port))
            _ISSUED_PORTS.add(port)
            return port
        except OSError:
            continue
        finally:
            s.close()
    raise RuntimeError('no free port found in 20000..32000')


def wait_for(predicate, timeout, interval=0.05, message='condition'):
    """Poll `predicate` until it returns a truthy value; return that value or raise AssertionError."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError('timed out after %.1fs waiting for %s' % (timeout, message))
        time.sleep(interval)


def expected_body(size, offset=0):
    """The first `size` bytes of the demo backend's `size=` body, starting at `offset`."""
    start = offset % len(PATTERN)
    reps = (start + size) // len(PATTERN) + 1
    return (PATTERN * reps)[start:start + size]


class PatternChecker:
    """A response-body sink that checks the demo backend's `size=` pattern without keeping the body.

    Used for 100 MiB transfers: memory stays flat and every byte is still compared.
    """

    def __init__(self):
        self.count = 0
        self.mismatch_at = None
        self._ref = PATTERN * (1 + (1 << 20) // len(PATTERN))   # >= 1 MiB of pattern

    def __call__(self, data):
        view = memoryview(data)
        while len(view):
            start = self.count % len(PATTERN)
            n = min(len(view), len(self._ref) - start)
            if self.mismatch_at is None and view[:n] != self._ref[start:start + n]:
                self.mismatch_at = self.count
            self.count += n
            view = view[n:]


def proc_status_kib(pid, field):
    """A `kB` field (VmRSS, VmHWM, ...) of /proc/PID/status, or None when the process is gone."""
    try:
        with open('/proc/%d/status' % pid) as f:
            for line in f:
                if line.startswith(field + ':'):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


class RssSampler(threading.Thread):
    """Samples a process's VmRSS every `interval` seconds; `peak_kib` is the largest sample."""

    def __init__(self, pid, interval=0.02):
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.peak_kib = 0
        self._stop_event = threading.Event()

    def run(self):
        while not self._stop_event.is_set():
            rss = proc_status_kib(self.pid, 'VmRSS')
            if rss is not None:
                self.peak_kib = max(self.peak_kib, rss)
            self._stop_event.wait(self.interval)

    def stop(self):
        self._stop_event.set()
        self.join(5)
        return self.peak_kib


def run_concurrently(n, target, timeout=60.0):
    """Run target(i) for i in range(n) on n threads; return the results in order.

    Re-raises the first exception a thread raised; fails if a thread is still running after timeout.
    """
    results = [None] * n
    errors = []

    def body(i):
        try:
            results[i] = target(i)
        except BaseException as e:  # noqa: B902 - collected and re-raised in the caller
            errors.append(e)

    threads = [threading.Thread(target=body, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + timeout
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    if any(t.is_alive() for t in threads):
        raise AssertionError('%d of %d threads still running after %.0fs'
                             % (sum(t.is_alive() for t in threads), n, timeout))
    if errors:
        raise errors[0]
    return results


def tail(text, lines):
    parts = text.splitlines()
    if len(parts) <= lines:
        return text
    return '... (%d lines omitted)\n' % (len(parts) - lines) + '\n'.join(parts[-lines:])


# --------------------------------------------------------------------------------------------
# YAML

def _yaml_scalar(value):
    if value is None:
        return 'null'
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        # JSON string escapes are valid in YAML double-quoted scalars.
        return json.dumps(value)
    raise TypeError('cannot write %r as a YAML scalar' % (value,))


def to_yaml(value, indent=0):
    """Block-style YAML for dicts, lists and scalars (strings always double-quoted)."""
    pad = ' ' * indent
    lines = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, dict) and item:
                lines.append('%s%s:' % (pad, key))
                lines.append(to_yaml(item, indent + 2))
            elif isinstance(item, list) and item:
                lines.append('%s%s:' % (pad, key))
                lines.append(to_yaml(item, indent + 2))
            elif isinstance(item, dict):
                lines.append('%s%s: {}' % (pad, key))
            elif isinstance(item, list):
                lines.append('%s%s: []' % (pad, key))
            else:
                lines.append('%s%s: %s' % (pad, key, _yaml_scalar(item)))
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, (dict, list)) and item:
                block = to_yaml(item, indent + 2)
                lines.append(pad + '- ' + block[indent + 2:])
            elif isinstance(item, dict):
                lines.append(pad + '- {}')
            elif isinstance(item, list):
                lines.append(pad + '- []')
            else:
                lines.append(pad + '- ' + _yaml_scalar(item))
    else:
        lines.append(pad + _yaml_scalar(value))
    return '\n'.join(lines)


def upstream(*backends, **options):
    """An upstream block. Each backend: a Backend, an 'host:port' string, or (backend, weight)."""
    entries = []
    for b in backends:
        weight = None
        if isinstance(b, tuple):
            b, weight = b
        address = b if isinstance(b, str) else b.address
        entry = {'address': address}
        if weight is not None:
            entry['weight'] = weight
        entries.append(entry)
    block = {}
    if 'balance' in options:
        block['balance'] = options.pop('balance')
    block['backends'] = entries
    block.update(options)
    return block


def make_config(upstreams, routes=None, **top):
    """A whole config dict. The listener is filled in by PierTestCase.start_pier.

    upstreams: {name: upstream(...)}. routes default to one catch-all route to the first upstream.
    Top-level keys (workers, http, trusted_proxies, ...) override the defaults below.
    """
    config = {
        'workers': 1,               # deterministic balancing and pooling; tests that want more say so
        'shutdown_timeout': '5s',   # teardown waits STOP_TIMEOUT (8 s) before SIGKILL
    }
    config.update(top)
    config['upstreams'] = upstreams
    if routes is None:
        routes = [{'match': {'host': '*', 'path_prefix': '/'}, 'upstream': next(iter(upstreams))}]
    config['routes'] = routes
    return config


# --------------------------------------------------------------------------------------------
# Processes

class ManagedProcess:
    """A child process whose stdout and stderr go to files in the test's temp dir."""

    def __init__(self, argv, name, workdir, capture_stdout_lines=False):
        self.name = name
        self.argv = list(argv)
        self.stderr_path = pathlib.Path(workdir) / ('%s.stderr' % name)
        self.stdout_path = pathlib.Path(workdir) / ('%s.stdout' % name)
        self._stderr = open(self.stderr_path, 'wb')
        self.stdout_lines = []
        self._first_line = threading.Event()
        if capture_stdout_lines:
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                         stderr=self._stderr)
            self._reader = threading.Thread(target=self._read_stdout, daemon=True)
            self._reader.start()
        else:
            self._stdout = open(self.stdout_path, 'wb')
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=self._stdout,
                                         stderr=self._stderr)
        self.pid = self.proc.pid
        self.expected_exit = False   # set when a test stops or signals the process itself

    def _read_stdout(self):
        # Drains stdout for the process's whole life, so a chatty child never blocks on a full pipe.
        with open(self.stdout_path, 'wb') as copy:
            for raw in self.proc.stdout:
                copy.write(raw)
                copy.flush()
                self.stdout_lines.append(raw.decode('utf-8', 'replace').rstrip('\r\n'))
                self._first_line.set()
        self._first_line.set()

    def wait_first_line(self, timeout):
        self._first_line.wait(timeout)
        return self.stdout_lines[0] if self.stdout_lines else None

    def running(self):
        return self.proc.poll() is None

    def signal(self, sig):
        self.expected_exit = True
        if self.proc.poll() is None:
            self.proc.send_signal(sig)   # by PID

    def wait(self, timeout):
        """The exit code, or None if still running after timeout."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, timeout=STOP_TIMEOUT):
        """SIGTERM, then SIGKILL after timeout. Returns (exit code, whether SIGKILL was needed)."""
        self.expected_exit = True
        killed = False
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                killed = True
                self.proc.kill()
                self.proc.wait(10)
        for f in (getattr(self, '_stdout', None), self._stderr):
            if f is not None and not f.closed:
                f.close()
        if self.proc.stdout is not None:
            # The reader thread sees EOF now that the process is gone; let it finish first.
            self._reader.join(2)
            if not self._reader.is_alive():
                self.proc.stdout.close()
        return self.proc.returncode, killed

    def stderr_text(self):
        try:
            self._stderr.flush()
        except ValueError:
            pass
        try:
            return self.stderr_path.read_text('utf-8', 'replace')
        except FileNotFoundError:
            return ''


class Backend(ManagedProcess):
    """A running demo backend. `address` is 'host:port' for configs."""

    def __init__(self, workdir, name, args=(), port=0):
        if not os.path.exists(DEMO_BACKEND):
            raise FileNotFoundError('demo backend not found: %s (set PIER_DEMO_BACKEND)'
                                    % DEMO_BACKEND)
        argv = [sys.executable, '-u', DEMO_BACKEND, '--name', name, '--host', HOST,
                '--port', str(port)] + [str(a) for a in args]
        super().__init__(argv, 'backend-' + name, workdir, capture_stdout_lines=True)
        self.backend_name = name
        line = self.wait_first_line(START_TIMEOUT)
        m = re.fullmatch(r'listening (\d+)', (line or '').strip())
        if not m:
            code, _ = self.stop(2)
            raise RuntimeError('backend %s did not print "listening <port>" within %.0fs '
                               '(first stdout line %r, exit %r); stderr:\n%s'
                               % (name, START_TIMEOUT, line, code, tail(self.stderr_text(), 30)))
        self.port = int(m.group(1))
        if port:
            assert self.port == port, 'backend %s: asked for port %d, listening on %d' % (
                name, port, self.port)
        self.address = '%s:%d' % (HOST, self.port)
        # The backend prints "listening" just before it installs its SIGTERM handler; once it has
        # answered a request, the handler is in place (so a stop right away still exits 0).
        # This adds 1 to its `connections` count, never to `requests`.
        self.stats()

    def stats(self):
        """The backend's /stats, read directly (not through pier).

        Note: this opens one connection to the backend, so it adds 1 to `connections` (it counts
        itself) and 1 to `active_connections` while it is being answered.
        """
        r = http_request(self.port, 'GET', '/stats', headers=[('Connection', 'close')])
        if r.status != 200:
            raise AssertionError('backend %s /stats answered %d' % (self.backend_name, r.status))
        return json.loads(r.body)

    def control(self, **params):
        """GET /control?k=v directly on the backend, e.g. control(healthy=0), control(fail=1)."""
        r = http_request(self.port, 'GET', '/control?' + urllib.parse.urlencode(params),
                         headers=[('Connection', 'close')])
        if r.status != 200:
            raise AssertionError('backend %s /control answered %d' % (self.backend_name, r.status))


class Redis(ManagedProcess):
    """A redis-server of the test's own (so that it may be stopped, paused or restarted), in
    memory only, with maxmemory and allkeys-lru as scripts/test configures the shared one."""

    def __init__(self, workdir, port=0, name='redis'):
        port = port or free_port()
        argv = [REDIS_SERVER, '--port', str(port), '--bind', HOST, '--save', '',
                '--appendonly', 'no', '--maxmemory', '64mb', '--maxmemory-policy', 'allkeys-lru',
                '--dir', str(workdir)]
        super().__init__(argv, name, workdir)
        self.port = port
        self.address = '%s:%d' % (HOST, port)
        self.url = 'redis://%s/0' % self.address
        wait_for(self.ping, START_TIMEOUT, message='redis-server on port %d' % port)

    def ping(self):
        try:
            return self.command('PING') == 'PONG'
        except OSError:
            return False

    def command(self, *args):
        return redis_command(self.port, *args)


def redis_command(port, *args):
    """One command over a new connection; the decoded reply (bytes for bulk strings, str for
    status replies, int, list, None; an error reply raises RuntimeError)."""
    parts = [b'*%d\r\n' % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        parts.append(b'$%d\r\n%s\r\n' % (len(a), a))
    with socket.create_connection((HOST, port), timeout=5) as s:
        s.sendall(b''.join(parts))
        reader = s.makefile('rb')
        return _read_resp(reader)


def _read_resp(reader):
    line = reader.readline()
    if not line:
        raise ConnectionError('redis closed the connection')
    kind, rest = line[:1], line[1:-2]
    if kind == b'+':
        return rest.decode()
    if kind == b'-':
        raise RuntimeError(rest.decode())
    if kind == b':':
        return int(rest)
    if kind == b'$':
        n = int(rest)
        if n < 0:
            return None
        data = reader.read(n + 2)
        return data[:-2]
    if kind == b'*':
        n = int(rest)
        return None if n < 0 else [_read_resp(reader) for _ in range(n)]
    raise ConnectionError('unexpected RESP reply %r' % line)


class Pier(ManagedProcess):
    """A running pier. `port` is its listener; `config_path` the YAML it was started with;
    `admin_port` its admin listener (None for YAML text configs: the default address)."""

    admin_port = None

    def __init__(self, workdir, config_text, port, log_level=LOG_LEVEL, extra_args=()):
        if not os.path.exists(PIER_BIN):
            raise FileNotFoundError('pier binary not found: %s (set PIER_BIN)' % PIER_BIN)
        self.config_path = pathlib.Path(workdir) / 'pier.yaml'
        self.config_path.write_text(config_text)
        self.config_text = config_text
        self.port = port
        argv = [PIER_BIN, '--config', str(self.config_path), '--log-level', log_level] + list(extra_args)
        super().__init__(argv, 'pier', workdir)
        self._wait_listening(START_TIMEOUT)

    def _wait_listening(self, timeout):
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError('pier exited with %d before listening on %d; stderr:\n%s\nconfig:\n%s'
                                   % (self.proc.returncode, self.port, tail(self.stderr_text(), 60),
                                      self.config_text))
            try:
                # A bare connect: no request is sent, so no balancer pick or backend traffic.
                socket.create_connection((HOST, self.port), timeout=0.5).close()
                return
            except OSError:
                pass
            if time.monotonic() >= deadline:
                self.stop(2)
                raise RuntimeError('pier did not accept connections on %d within %.0fs; stderr:\n%s'
                                   % (self.port, timeout, tail(self.stderr_text(), 60)))
            time.sleep(0.05)

    def rss_kib(self):
        return proc_status_kib(self.pid, 'VmRSS')

    def peak_rss_kib(self):
        return proc_status_kib(self.pid, 'VmHWM')


def run_pier(args, timeout=15.0):
    """Run the pier binary to completion (e.g. --check, --version). Returns CompletedProcess."""
    if not os.path.exists(PIER_BIN):
        raise FileNotFoundError('pier binary not found: %s (set PIER_BIN)' % PIER_BIN)
    return subprocess.run([PIER_BIN] + list(args), stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=timeout)


# --------------------------------------------------------------------------------------------
# Raw HTTP/1.1

class ProtocolError(AssertionError):
    """The peer sent something that is not a well-formed HTTP/1.1 response."""


class IncompleteResponse(ProtocolError):
    """The connection ended (FIN or RST) before the response was complete."""

    def __init__(self, message, head=None, received=0):
        super().__init__(message)
        self.head = head            # the Response parsed so far (status, headers), or None
        self.received = received    # body bytes received before the end


class Response:
    def __init__(self, version, status, reason, headers, raw_head):
        self.version = version      # 'HTTP/1.1'
        self.status = status        # int
        self.reason = reason
        self.headers = headers      # [(name, value)] in order, names as sent
        self.raw_head = raw_head    # bytes, through the blank line
        self.body = b''             # bytes (or b'' when a sink consumed it)
        self.body_length = 0        # body bytes received, also with a sink
        self.trailers = []          # [(name, value)] of a chunked body
        self.framing = None         # 'none' | 'length' | 'chunked' | 'close'
        self.interim = []           # 1xx responses that came before this one

    def header(self, name):
        """The first value of header `name` (case-insensitive), or None."""
        name = name.lower()
        for n, v in self.headers:
            if n.lower() == name:
                return v
        return None

    def header_values(self, name):
        name = name.lower()
        return [v for n, v in self.headers if n.lower() == name]

    def has_header(self, name):
        return self.header(name) is not None

    def trailer(self, name):
        name = name.lower()
        for n, v in self.trailers:
            if n.lower() == name:
                return v
        return None

    def __repr__(self):
        return '<Response %s %d %r, %d body bytes>' % (self.version, self.status, self.headers,
                                                       self.body_length)


def build_request(method, target, headers=(), body=None, host='pier.test', version='HTTP/1.1',
                  chunked=False):
    """Bytes of one request. Adds Host (unless host is None or headers have one) and
    Content-Length for a body (unless chunked, or headers already frame it)."""
    lines = ['%s %s %s' % (method, target, version)]
    names = {n.lower() for n, _ in headers}
    if host is not None and 'host' not in names:
        lines.append('Host: %s' % host)
    for n, v in headers:
        lines.append('%s: %s' % (n, v))
    payload = b''
    if body is not None:
        if isinstance(body, str):
            body = body.encode()
        if chunked:
            if 'transfer-encoding' not in names:
                lines.append('Transfer-Encoding: chunked')
            payload = (b'%x\r\n%s\r\n' % (len(body), body) if body else b'') + b'0\r\n\r\n'
        else:
            if 'content-length' not in names and 'transfer-encoding' not in names:
                lines.append('Content-Length: %d' % len(body))
            payload = body
    return ('\r\n'.join(lines) + '\r\n\r\n').encode('latin-1') + payload


_STATUS_LINE = re.compile(rb'(HTTP/\d\.\d) (\d{3})(?: ([^\r\n]*))?')


class Conn:
    """One client TCP connection with a read buffer, so pipelined responses parse correctly."""

    def __init__(self, port, timeout=IO_TIMEOUT, host=HOST):
        self.port = port
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.eof = False          # FIN seen
        self.reset = False        # RST seen (ECONNRESET)
        self.closed = False

    # -- plumbing
    def settimeout(self, t):
        self.sock.settimeout(t)

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self, size=262144):
        """Read more bytes into the buffer. False at end of stream (FIN or RST)."""
        if self.eof or self.reset:
            return False
        try:
            data = self.sock.recv(size)
        except ConnectionResetError:
            self.reset = True
            return False
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    def close(self):
        if not self.closed:
            self.closed = True
            try:
                self.sock.close()
            except OSError:
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- reading
    def read_until(self, delimiter, limit=1 << 20, what='data'):
        """Bytes up to and including `delimiter`."""
        start = 0
        while True:
            i = self.buf.find(delimiter, start)
            if i >= 0:
                out = bytes(self.buf[:i + len(delimiter)])
                del self.buf[:i + len(delimiter)]
                return out
            if len(self.buf) > limit:
                raise ProtocolError('no %r within %d bytes while reading %s' % (delimiter, limit, what))
            start = max(0, len(self.buf) - len(delimiter) + 1)
            if not self._fill():
                raise IncompleteResponse('connection %s while reading %s (have %r)'
                                         % ('reset' if self.reset else 'closed', what,
                                            bytes(self.buf[:200])))

    def _read_exact_into(self, n, sink):
        """Feed exactly n bytes to sink; returns how many arrived (< n when the stream ended)."""
        got = 0
        while got < n:
            if not self.buf and not self._fill(min(1 << 20, max(65536, n - got))):
                return got
            take = min(n - got, len(self.buf))
            sink(bytes(self.buf[:take]))
            del self.buf[:take]
            got += take
        return got

    def read_exact(self, n):
        parts = []
        got = self._read_exact_into(n, parts.append)
        if got < n:
            raise IncompleteResponse('connection ended after %d of %d bytes' % (got, n), received=got)
        return b''.join(parts)

    def read_until_close(self, limit=256 << 20):
        """Everything until the peer closes. Raises on RST unless nothing is lost."""
        while self._fill():
            if len(self.buf) > limit:
                raise ProtocolError('more than %d bytes before close' % limit)
        out = bytes(self.buf)
        self.buf.clear()
        return out

    def read_head(self):
        raw = self.read_until(b'\r\n\r\n', limit=256 << 10, what='a response head')
        lines = raw[:-4].split(b'\r\n')
        m = _STATUS_LINE.fullmatch(lines[0])
        if not m:
            raise ProtocolError('bad status line %r' % lines[0])
        headers = []
        for line in lines[1:]:
            name, sep, value = line.partition(b':')
            if not sep or not name or name != name.strip() or b' ' in name or b'\t' in name:
                raise ProtocolError('bad header line %r in response head %r' % (line, raw))
            headers.append((name.decode('latin-1'), value.strip(b' \t').decode('latin-1')))
        return Response(m.group(1).decode(), int(m.group(2)), (m.group(3) or b'').decode('latin-1'),
                        headers, raw)

    def read_response(self, method='GET', sink=None, skip_interim=True):
        """One response, body framed per RFC 9112 section 6.3.

        method: the request's method (HEAD: no body). sink: called with each body piece instead of
        collecting `body`. skip_interim: 1xx responses other than 101 are collected in `interim`
        and the final response is returned; with False, a 1xx is returned as it is.
        Raises IncompleteResponse if the connection ends first (with `received` body bytes).
        """
        interim = []
        while True:
            resp = self.read_head()
            if 100 <= resp.status < 200 and resp.status != 101 and skip_interim:
                interim.append(resp)
                continue
            break
        resp.interim = interim
        parts = []
        collect = sink is None
        if collect:
            sink = parts.append

        def counted(data):
            resp.body_length += len(data)
            sink(data)

        te = ','.join(resp.header_values('Transfer-Encoding'))
        codings = [c.strip().lower() for c in te.split(',') if c.strip()]
        cl_values = resp.header_values('Content-Length')
        if method == 'HEAD' or 100 <= resp.status < 200 or resp.status in (204, 304):
            resp.framing = 'none'
        elif codings:
            if codings[-1] != 'chunked':
                raise ProtocolError('Transfer-Encoding %r does not end in chunked' % te)
            resp.framing = 'chunked'
            self._read_chunked(resp, counted)
        elif cl_values:
            if len(set(v.strip() for v in cl_values)) != 1 or not cl_values[0].strip().isdigit():
                raise ProtocolError('bad Content-Length %r' % cl_values)
            n = int(cl_values[0])
            resp.framing = 'length'
            got = self._read_exact_into(n, counted)
            if got < n:
                raise IncompleteResponse('connection %s after %d of %d body bytes'
                                         % ('reset' if self.reset else 'closed', got, n),
                                         head=resp, received=got)
        else:
            resp.framing = 'close'
            while True:
                if self.buf:
                    counted(bytes(self.buf))
                    self.buf.clear()
                if not self._fill():
                    break
            if self.reset:
                raise IncompleteResponse('close-delimited body ended by a reset after %d bytes'
                                         % resp.body_length, head=resp, received=resp.body_length)
        if collect:
            resp.body = b''.join(parts)
        return resp

    def _read_chunked(self, resp, sink):
        while True:
            try:
                line = self.read_until(b'\r\n', limit=4096, what='a chunk size line')
            except IncompleteResponse as e:
                raise IncompleteResponse(str(e), head=resp, received=resp.body_length)
            size_text = line[:-2].split(b';', 1)[0].strip()
            if not size_text or not re.fullmatch(rb'[0-9A-Fa-f]+', size_text):
                raise ProtocolError('bad chunk size line %r' % line)
            size = int(size_text, 16)
            if size == 0:
                break
            got = self._read_exact_into(size, sink)
            if got < size:
                raise IncompleteResponse('connection ended inside a chunk (%d of %d bytes)'
                                         % (got, size), head=resp, received=resp.body_length)
            try:
                crlf = self.read_exact(2)
            except IncompleteResponse as e:
                raise IncompleteResponse(str(e), head=resp, received=resp.body_length)
            if crlf != b'\r\n':
                raise ProtocolError('chunk data not followed by CRLF: %r' % crlf)
        while True:
            line = self.read_until(b'\r\n', limit=65536, what='the trailer section')
            if line == b'\r\n':
                return
            name, sep, value = line[:-2].partition(b':')
            if not sep:
                raise ProtocolError('bad trailer line %r' % line)
            resp.trailers.append((name.decode('latin-1'), value.strip().decode('latin-1')))

    # -- convenience
    def request(self, method, target, headers=(), body=None, **kw):
        self.send(build_request(method, target, headers, body, **kw))

    def roundtrip(self, method, target, headers=(), body=None, sink=None, **kw):
        self.request(method, target, headers, body, **kw)
        return self.read_response(method, sink=sink)

    def get(self, target, headers=(), **kw):
        return self.roundtrip('GET', target, headers, **kw)

    def wait_closed(self, timeout=5.0):
        """How the connection ends within timeout, once the buffer is drained:
        'closed' (FIN: recv returned b''), 'reset' (ECONNRESET), 'open' (still open), or
        'data' (unexpected bytes arrived; they stay in self.buf)."""
        if self.buf:
            return 'data'
        if self.eof:
            return 'closed'
        if self.reset:
            return 'reset'
        old = self.sock.gettimeout()
        self.sock.settimeout(timeout)
        try:
            if self._fill():
                return 'data'
            return 'reset' if self.reset else 'closed'
        except socket.timeout:
            return 'open'
        finally:
            self.sock.settimeout(old)


def http_request(port, method, target, headers=(), body=None, sink=None, timeout=IO_TIMEOUT, **kw):
    """One request on a new connection (closed afterwards)."""
    with Conn(port, timeout=timeout) as c:
        return c.roundtrip(method, target, headers, body, sink=sink, **kw)


def connection_refused(port):
    """True when a TCP connect to 127.0.0.1:port is refused."""
    try:
        socket.create_connection((HOST, port), timeout=1.0).close()
        return False
    except ConnectionRefusedError:
        return True
    except OSError:
        return False


# WebSocket frames (RFC 6455), just enough for an echo test.

def ws_frame(opcode, payload, mask=True, fin=True):
    head = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    mask_bit = 0x80 if mask else 0
    if n < 126:
        head += bytes([mask_bit | n])
    elif n < 65536:
        head += bytes([mask_bit | 126]) + n.to_bytes(2, 'big')
    else:
        head += bytes([mask_bit | 127]) + n.to_bytes(8, 'big')
    if not mask:
        return head + payload
    key = os.urandom(4)
    masked = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    return head + key + masked


def ws_read_frame(conn):
    """(fin, opcode, payload, was_masked) of the next frame on conn."""
    b0, b1 = conn.read_exact(2)
    n = b1 & 0x7F
    if n == 126:
        n = int.from_bytes(conn.read_exact(2), 'big')
    elif n == 127:
        n = int.from_bytes(conn.read_exact(8), 'big')
    masked = bool(b1 & 0x80)
    key = conn.read_exact(4) if masked else None
    payload = conn.read_exact(n)
    if masked:
        payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    return bool(b0 & 0x80), b0 & 0x0F, payload, masked


# --------------------------------------------------------------------------------------------
# The test base class

class PierTestCase(unittest.TestCase):
    """Starts processes for one test and stops them all (by PID) when it ends.

    self.start_backend(name, *args) -> Backend; self.start_pier(config) -> Pier (also self.pier);
    self.connect() -> Conn to self.pier; self.get(path) -> Response on a new connection.
    """

    def setUp(self):
        super().setUp()
        self.workdir = pathlib.Path(tempfile.mkdtemp(prefix='pier-it-'))
        self.pier = None
        self._piers = []
        self._backends = []
        self._redises = []
        self._conns = []
        # Cleanups run last-registered-first: sockets close, then pier stops, then backends,
        # then the report, then the temp dir goes.
        self.addCleanup(self._remove_workdir)
        self.addCleanup(self._report)

    # -- processes
    def start_backend(self, name, *args, port=0):
        b = Backend(self.workdir, name, args, port=port)
        self._backends.append(b)
        self.addCleanup(self._stop_backend, b)
        return b

    def start_backends(self, *names, args=()):
        return [self.start_backend(n, *args) for n in names]

    def start_redis(self, port=0):
        """A redis-server of this test's own, stopped by PID in teardown."""
        r = Redis(self.workdir, port=port, name='redis%d' % len(self._redises))
        self._redises.append(r)
        self.addCleanup(r.stop, 5)
        return r

    def shared_redis_url(self):
        """scripts/test's redis-server when there is one, else one of this test's own."""
        if SHARED_REDIS:
            return 'redis://%s/0' % SHARED_REDIS
        return self.start_redis().url

    def start_pier(self, config, port=None, log_level=LOG_LEVEL):
        """Start pier with `config` (a dict from make_config, or YAML text).

        A dict without `listeners` gets one on a free port. Waits until the listener accepts.
        """
        if isinstance(config, dict):
            config = dict(config)
            if 'admin' not in config:
                # Each pier its own admin port: tests run several piers at once.
                config['admin'] = {'address': '%s:%d' % (HOST, free_port())}
            if 'listeners' not in config:
                port = port or free_port()
                config = {k: v for k, v in config.items()}
                config['listeners'] = [{'name': 'public', 'address': '%s:%d' % (HOST, port)}]
                # Keep a readable key order: top-level options, listeners, upstreams, routes.
                order = [k for k in config if k not in ('listeners', 'upstreams', 'routes')]
                config = {k: config[k] for k in order + ['listeners', 'upstreams', 'routes']
                          if k in config}
            else:
                port = port or int(config['listeners'][0]['address'].rsplit(':', 1)[1])
            text = to_yaml(config) + '\n'
        else:
            text = config
            if port is None:
                raise ValueError('start_pier with YAML text needs port=')
        workdir = self.workdir / ('pier%d' % len(self._piers)) if self._piers else self.workdir
        workdir.mkdir(exist_ok=True)
        p = Pier(workdir, text, port, log_level=log_level)
        if isinstance(config, dict) and config.get('admin', {}).get('address'):
            p.admin_port = int(config['admin']['address'].rsplit(':', 1)[1])
        self._piers.append(p)
        self.pier = p
        self.addCleanup(self._stop_pier, p)
        return p

    def _stop_pier(self, p):
        for c in self._conns:
            c.close()
        crashed_before = p.proc.poll() is not None and not p.expected_exit
        stopped_by_test = p.expected_exit
        code, killed = p.stop()
        if killed:
            sys.stderr.write('\n[harness] pier (pid %d) did not exit within %.0fs of SIGTERM; '
                             'sent SIGKILL\n' % (p.pid, STOP_TIMEOUT))
        if crashed_before:
            raise AssertionError('pier (pid %d) exited on its own during the test with %d; stderr:\n%s'
                                 % (p.pid, code, tail(p.stderr_text(), 60)))
        if code is not None and code < 0 and -code in CRASH_SIGNALS:
            raise AssertionError('pier (pid %d) died of signal %d; stderr:\n%s'
                                 % (p.pid, -code, tail(p.stderr_text(), 60)))
        # SIGTERM must end in a clean exit 0; a sanitizer report (even one that lets the process
        # go on, like UBSan's, or LeakSanitizer's at exit) fails the test that triggered it.
        stderr = p.stderr_text()
        for marker in SANITIZER_MARKERS:
            if marker in stderr:
                raise AssertionError('pier (pid %d) reported %r; stderr:\n%s'
                                     % (p.pid, marker, tail(stderr, 80)))
        if not killed and not stopped_by_test and code not in (0, None):
            raise AssertionError('pier (pid %d) exited with %d after SIGTERM; stderr:\n%s'
                                 % (p.pid, code, tail(stderr, 60)))

    def _stop_backend(self, b):
        b.stop(5)

    def _failed(self):
        """Whether the test (so far) failed. Runs inside a cleanup, where `outcome.success` has
        been reset for the cleanup itself, so look at what was recorded instead."""
        outcome = getattr(self, '_outcome', None)
        if outcome is None:
            return True
        errors = getattr(outcome, 'errors', None)          # Python <= 3.10: fed to result later
        if errors is not None:
            return any(exc_info is not None for _, exc_info in errors)
        result = getattr(outcome, 'result', None)          # Python >= 3.11: recorded at once
        if result is None:
            return True
        recorded = list(getattr(result, 'failures', [])) + list(getattr(result, 'errors', []))
        return any(test is self or getattr(test, 'test_case', None) is self for test, _ in recorded)

    def _report(self):
        if not (self._failed() or VERBOSE):
            return
        out = ['', '=' * 30 + ' %s ' % self.id() + '=' * 30]
        for p in self._piers:
            out.append('--- pier pid %d, exit %r, config %s:' % (p.pid, p.proc.returncode, p.config_path))
            out.append(p.config_text.rstrip())
            out.append('--- pier stderr (tail):')
            out.append(tail(p.stderr_text(), 150).rstrip() or '(empty)')
        for b in self._backends:
            text = b.stderr_text().rstrip()
            if text:
                out.append('--- backend %s stderr (tail):' % b.backend_name)
                out.append(tail(text, 30))
        out.append('=' * 70)
        sys.stderr.write('\n'.join(out) + '\n')
        sys.stderr.flush()

    def _remove_workdir(self):
        if KEEP_TMP:
            sys.stderr.write('[harness] kept %s\n' % self.workdir)
        else:
            shutil.rmtree(self.workdir, ignore_errors=True)

    # -- client side
    def connect(self, port=None, timeout=IO_TIMEOUT):
        c = Conn(port or self.pier.port, timeout=timeout)
        self._conns.append(c)
        return c

    def get(self, target, headers=(), **kw):
        """GET on a new connection to pier."""
        with self.connect() as c:
            return c.get(target, headers, **kw)

    def request(self, method, target, headers=(), body=None, **kw):
        with self.connect() as c:
            return c.roundtrip(method, target, headers, body, **kw)

    # -- assertions
    def assertStatus(self, resp, status, msg=None):
        self.assertEqual(resp.status, status, msg or 'unexpected status; response head:\n%s'
                         % resp.raw_head.decode('latin-1'))

    def assertClosedCleanly(self, conn, timeout=5.0):
        """The peer closed with FIN after the response: recv returns b'' (no RST, no extra bytes)."""
        how = conn.wait_closed(timeout)
        self.assertEqual(how, 'closed', {
            'open': 'connection still open %.0fs after the response' % timeout,
            'reset': 'connection reset (RST) instead of a clean close (FIN)',
            'data': 'unexpected bytes after the response: %r' % bytes(conn.buf[:200]),
        }.get(how, how))


def backend_counts(responses):
    """{X-Backend value: count} over responses (None for responses without X-Backend)."""
    counts = {}
    for r in responses:
        name = r.header('X-Backend')
        counts[name] = counts.get(name, 0) + 1
    return counts
