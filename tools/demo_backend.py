#!/usr/bin/env python3
"""Pier demo backend: a small HTTP/1.1 origin server for demos, integration tests and benchmarks.

Python 3 standard library only. It speaks HTTP/1.1 over raw asyncio streams (no http.server)
so that every byte on the wire is under our control. The contract (command line, query
parameters, special paths) is documented in docs/demo-backend.md.

SPDX-License-Identifier: MIT
"""

import argparse
import asyncio
import base64
import binascii
import hashlib
import json
import re
import signal
import socket
import struct
import sys
import time
import traceback
from email.utils import formatdate
from http import HTTPStatus
from urllib.parse import parse_qsl, urlsplit

CHUNK = 64 * 1024  # bodies are read and written in pieces of at most this size
MAX_REQUEST_LINE = 8 * 1024
MAX_HEAD = 64 * 1024  # request line + headers (and, separately, trailers)
MAX_HEADERS = 100
STALL_SECONDS = 60.0  # close=stall: how long a half-sent body waits before the backend hangs up
LINGER_SECONDS = 1.0  # how long a closing connection waits for the peer, see linger_close()

PATTERN = b"abcdefghijklmnopqrstuvwxyz\n"
# Long enough that any CHUNK-sized window starting at offset 0..26 fits inside it.
PATTERN_BLOCK = PATTERN * (CHUNK // len(PATTERN) + 2)

# Paths that are out of band: not counted in requests/in_flight, not slowed by --delay-ms and
# still answered while /control?fail=1 is on (otherwise a test could not switch it back off).
UNCOUNTED_PATHS = ("/stats", "/control")

TOKEN = rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
REQUEST_LINE_RE = re.compile(rb"(" + TOKEN + rb") ([^\x00-\x20\x7f]+) HTTP/([0-9])\.([0-9])")
HEADER_RE = re.compile(rb"(" + TOKEN + rb"):[ \t]*(.*?)[ \t]*")
TOKEN_RE = re.compile(TOKEN)
HEX_RE = re.compile(rb"[0-9A-Fa-f]{1,16}")
BAD_VALUE_RE = re.compile(rb"[\x00\r\n]")

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

# What the connection loop does after a request has been handled.
KEEP = "keep"  # response complete, connection reusable
CLOSE = "close"  # response complete, close the connection (we told the client or it asked)
ABORT = "abort"  # close now, response deliberately missing/incomplete/broken
LINGER = "linger"  # response sent (often an error), then close gracefully: linger_close()


class HttpError(Exception):
    """A request we refuse; answered with `status` and the connection is closed."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


class ClientGone(Exception):
    """The peer closed the connection in the middle of a request."""


# ---------------------------------------------------------------------------------------------
# Small helpers


_date_cache = [0, ""]


def http_date():
    """The Date header value, formatted at most once per second (it is on every response)."""
    now = int(time.time())
    if now != _date_cache[0]:
        _date_cache[0] = now
        _date_cache[1] = formatdate(now, usegmt=True)
    return _date_cache[1]


def reason_phrase(status):
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def strip_eol(line):
    """Remove CRLF, or a bare LF (tolerated, RFC 9112 section 2.2)."""
    if line.endswith(b"\r\n"):
        return line[:-2]
    if line.endswith(b"\n"):
        return line[:-1]
    return line


def comma_tokens(values):
    """Lower-cased members of comma-separated header values (Connection, Transfer-Encoding...)."""
    return [t.strip().lower() for v in values for t in v.split(",") if t.strip()]


def pattern_slice(offset, n):
    """Bytes offset..offset+n of the endless abc...z\\n body (n <= CHUNK)."""
    start = offset % len(PATTERN)
    return PATTERN_BLOCK[start:start + n]


def flag(value):
    return value.lower() in ("1", "true", "yes", "on")


def json_body(obj):
    return (json.dumps(obj) + "\n").encode()


# ---------------------------------------------------------------------------------------------
# Requests


class Request:
    """A parsed request head. Strings are latin-1 decoded so that they map 1:1 to the bytes."""

    __slots__ = ("method", "target", "version", "minor", "headers", "by_name", "path", "query",
                 "length", "chunked", "keep_alive", "trailers")

    def __init__(self, method, target, minor, headers):
        self.method = method
        self.target = target
        self.version = "HTTP/1.%d" % minor
        self.minor = minor
        self.headers = headers  # [[name, value], ...] exactly as received
        self.by_name = {}
        for name, value in headers:
            self.by_name.setdefault(name.lower(), []).append(value)
        self.trailers = []
        if target.startswith(("http://", "https://")):  # absolute-form (sent to proxies)
            parts = urlsplit(target)
            self.path, self.query = parts.path or "/", parts.query
        else:
            self.path, _, self.query = target.partition("?")
        self.length = 0
        self.chunked = False
        self.keep_alive = True

    def values(self, name):
        return self.by_name.get(name, ())

    def get(self, name, default=None):
        values = self.by_name.get(name)
        return values[0] if values else default


def parse_request_line(line):
    if len(line) > MAX_REQUEST_LINE:
        raise HttpError(414, "request line too long")
    match = REQUEST_LINE_RE.fullmatch(line)
    if not match:
        raise HttpError(400, "malformed request line")
    method, target, major, minor = match.groups()
    if major != b"1":
        raise HttpError(505, "only HTTP/1.x is supported")
    return method.decode("latin-1"), target.decode("latin-1"), int(minor)


def parse_field(line):
    """One `name: value` line; strict about the name, lenient about whitespace around the value."""
    if line[:1] in (b" ", b"\t"):
        raise HttpError(400, "obsolete line folding is not accepted")
    match = HEADER_RE.fullmatch(line)
    if not match:
        raise HttpError(400, "malformed header field")
    name, value = match.groups()
    if BAD_VALUE_RE.search(value):
        raise HttpError(400, "invalid character in header value")
    return [name.decode("latin-1"), value.decode("latin-1")]


def apply_framing(req):
    """Work out body framing and persistence from the headers (RFC 9112 sections 6 and 9)."""
    if req.minor >= 1 and len(req.values("host")) != 1:
        raise HttpError(400, "HTTP/1.1 requires exactly one Host header")
    connection = comma_tokens(req.values("connection"))
    if req.minor >= 1:
        req.keep_alive = "close" not in connection
    else:
        req.keep_alive = "keep-alive" in connection and "close" not in connection

    codings = comma_tokens(req.values("transfer-encoding"))
    lengths = [p.strip() for v in req.values("content-length") for p in v.split(",")]
    if req.values("transfer-encoding"):
        if not codings or codings[-1] != "chunked" or codings.count("chunked") != 1:
            raise HttpError(400, "request Transfer-Encoding must end in chunked")
        if len(codings) > 1:
            raise HttpError(501, "unsupported transfer coding")
        req.chunked = True
        # Transfer-Encoding overrides Content-Length, but such a message may be a smuggling
        # attempt, and chunked from an HTTP/1.0 client is dubious: answer it, then close.
        if lengths or req.minor == 0:
            req.keep_alive = False
    elif lengths:
        # A list of equal values ("5, 5") is tolerated (RFC 9112 section 6.3).
        if not all(p.isascii() and p.isdigit() for p in lengths) or len(set(lengths)) != 1:
            raise HttpError(400, "invalid Content-Length")
        req.length = int(lengths[0])


# ---------------------------------------------------------------------------------------------
# Query parameters


class Params:
    """The query parameters that apply to every path (docs/demo-backend.md)."""

    __slots__ = ("delay_ms", "status", "size", "chunked", "trailer", "close", "bad", "headers",
                 "raw", "etag", "echo_header", "counter", "after")

    def __init__(self):
        self.delay_ms = 0
        self.status = None
        self.size = None
        self.chunked = False
        self.trailer = False
        self.close = None
        self.bad = False
        self.headers = []
        self.raw = []
        self.etag = None
        self.echo_header = None
        self.counter = False
        self.after = None

    @classmethod
    def parse(cls, query):
        params = cls()
        # latin-1 keeps percent-encoded bytes intact all the way back onto the wire.
        params.raw = parse_qsl(query, keep_blank_values=True, encoding="latin-1")
        for key, value in params.raw:
            if key == "delay":
                params.delay_ms = cls._int(key, value, 0, 24 * 3600 * 1000)
            elif key == "status":
                params.status = cls._int(key, value, 100, 999)
            elif key == "size":
                params.size = cls._int(key, value, 0, 1 << 62)
            elif key == "chunked":
                params.chunked = flag(value)
            elif key == "trailer":
                params.trailer = flag(value)
            elif key == "close":
                if value not in ("early", "mid", "stall"):
                    raise HttpError(400, "close must be early, mid or stall")
                params.close = value
            elif key == "bad":
                params.bad = flag(value)
            elif key == "after":
                params.after = value.encode("latin-1")
            elif key == "header":
                params.headers.append(cls._header(value))
            elif key == "etag":
                params.etag = '"%s"' % cls._header("ETag:" + value)[1]
                params.headers.append(("ETag", params.etag))
            elif key == "echo_header":
                params.echo_header = value
            elif key == "counter":
                params.counter = flag(value)
        return params

    @staticmethod
    def _int(key, value, low, high):
        if not (value.isascii() and value.isdigit()) or not low <= int(value) <= high:
            raise HttpError(400, "%s must be an integer in %d..%d" % (key, low, high))
        return int(value)

    @staticmethod
    def _header(value):
        name, sep, val = value.partition(":")
        val = val.strip(" \t")
        if not sep or not TOKEN_RE.fullmatch(name.encode("latin-1")):
            raise HttpError(400, "header must be Name:Value")
        if BAD_VALUE_RE.search(val.encode("latin-1")):
            raise HttpError(400, "header value must not contain CR, LF or NUL")
        return (name, val)

    def asks_close(self):
        """True when an extra header tells the client we will close (header=Connection:close)."""
        return any(n.lower() == "connection" and "close" in comma_tokens([v])
                   for n, v in self.headers)


# ---------------------------------------------------------------------------------------------
# Response bodies


class BodyWriter:
    """Frames response body bytes (Content-Length, chunked, or until close) and writes them in
    bounded pieces; a drain() at least every CHUNK bytes keeps memory bounded for any size."""

    def __init__(self, writer, head, chunked):
        self.writer = writer
        self.chunked = chunked
        self.pending = [head]  # coalesce the head with a small body: one send() per response
        self.pending_size = len(head)

    async def write(self, data):
        if not data:
            return  # an empty chunk would end a chunked body
        if self.chunked:
            self.pending += (b"%x\r\n" % len(data), data, b"\r\n")
        else:
            self.pending.append(data)
        self.pending_size += len(data)
        if self.pending_size >= CHUNK:
            await self.flush()

    async def flush(self):
        if self.pending:
            self.writer.writelines(self.pending)
            self.pending = []
            self.pending_size = 0
        await self.writer.drain()

    async def finish(self, trailers=()):
        if self.chunked:
            self.pending.append(b"0\r\n" + b"".join(b"%s: %s\r\n" % (n.encode("latin-1"),
                                                                    v.encode("latin-1"))
                                                    for n, v in trailers) + b"\r\n")
        await self.flush()


# ---------------------------------------------------------------------------------------------
# WebSocket (RFC 6455)


def ws_accept_key(key):
    return base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()


def ws_frame_head(first_byte, length):
    """A server frame header: never masked."""
    if length < 126:
        return struct.pack("!BB", first_byte, length)
    if length < 65536:
        return struct.pack("!BBH", first_byte, 126, length)
    return struct.pack("!BBQ", first_byte, 127, length)


def ws_unmask(data, mask, offset):
    """XOR `data` (which starts `offset` bytes into the payload) with the 4-byte mask.
    Done on big integers: a per-byte Python loop would be ~100x slower."""
    n = len(data)
    if not n:
        return data
    shift = offset % 4
    mask = mask[shift:] + mask[:shift]
    key = (mask * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "little") ^ int.from_bytes(key, "little")).to_bytes(n, "little")


class WsProtocolError(Exception):
    def __init__(self, code):
        super().__init__(code)
        self.code = code


# ---------------------------------------------------------------------------------------------
# The server


class Backend:
    def __init__(self, args):
        self.name = args.name
        self.delay_ms = args.delay_ms
        self.idle_close = args.idle_close_ms / 1000 if args.idle_close_ms else None
        self.max_requests = args.max_requests_per_conn
        self.healthy = True
        self.failing = False
        # --log-requests: one line per request head, written and flushed before the request is
        # handled, so that a backend killed midway still shows what it had received.
        self.request_log = open(args.log_requests, "a", buffering=1) if args.log_requests else None
        self.connections = 0
        self.active = 0
        self.requests = 0
        self.in_flight = 0
        self.tasks = set()

    # -- connection level ----------------------------------------------------------------------

    async def handle_connection(self, reader, writer):
        task = asyncio.current_task()
        self.tasks.add(task)
        self.connections += 1
        self.active += 1
        counted_active = True
        try:
            # A larger write buffer than the 64 KiB default: fewer wake-ups on big bodies.
            writer.transport.set_write_buffer_limits(high=256 * 1024)
            outcome = await self.connection_loop(reader, writer)
            if outcome == LINGER:
                # Our side is done: count it closed now, so that active_connections does not
                # depend on how fast the client closes its end.
                self.active -= 1
                counted_active = False
                await self.linger_close(reader, writer)
        except (ConnectionError, ClientGone, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        except Exception:  # a bug: say so, but keep serving other connections
            traceback.print_exc(file=sys.stderr)
        finally:
            if counted_active:
                self.active -= 1
            self.tasks.discard(task)
            writer.close()

    async def connection_loop(self, reader, writer):
        responses = 0
        while True:
            try:
                req = await self.read_request_head(reader)
            except HttpError as err:
                self.write_error(writer, err)
                return LINGER
            if req is None:  # clean EOF or --idle-close-ms elapsed: close silently
                return ABORT
            counted = req.path not in UNCOUNTED_PATHS
            if counted:
                self.requests += 1
                self.in_flight += 1
            try:
                outcome = await self.dispatch(reader, writer, req)
            except HttpError as err:  # raised before any response byte was sent
                self.write_error(writer, err)
                outcome = LINGER
            finally:
                if counted:
                    self.in_flight -= 1
            if outcome == CLOSE:
                # Requests pipelined behind this one would make close() send RST, which can
                # destroy the response we just sent: close gracefully instead.
                return LINGER
            if outcome != KEEP:
                return outcome
            responses += 1
            if self.max_requests and responses >= self.max_requests:
                return ABORT  # silently: the client was not told, on purpose

    async def linger_close(self, reader, writer):
        """Closing a socket with unread data makes the kernel send RST, which can destroy the
        response we just sent before the client reads it (after an error the client may still
        be sending its body). So: send FIN, then read and discard until the peer closes
        (bounded in bytes and time)."""
        try:
            await writer.drain()
            if writer.can_write_eof():
                writer.write_eof()

            async def discard():
                total = 0
                while total < 16 * CHUNK:
                    data = await reader.read(CHUNK)
                    if not data:
                        return
                    total += len(data)

            await asyncio.wait_for(discard(), LINGER_SECONDS)
        except (asyncio.TimeoutError, ConnectionError):
            pass

    # -- reading requests ----------------------------------------------------------------------

    async def read_line(self, reader, too_long_status):
        try:
            line = await reader.readline()
        except ValueError:  # longer than the StreamReader limit
            raise HttpError(too_long_status, "line too long") from None
        if not line.endswith(b"\n"):
            raise ClientGone()
        return line

    async def read_request_line(self, reader):
        """The request line, skipping a few empty lines before it (RFC 9112 section 2.2).
        None on a clean EOF, or when --idle-close-ms elapses before a request starts."""
        for attempt in range(5):
            pending = reader.readline()
            try:
                if attempt == 0 and self.idle_close:
                    line = await asyncio.wait_for(pending, self.idle_close)
                else:
                    line = await pending
            except asyncio.TimeoutError:
                return None
            except ValueError:  # longer than the StreamReader limit
                raise HttpError(414, "request line too long") from None
            if not line:
                return None
            if not line.endswith(b"\n"):
                raise ClientGone()
            if line not in (b"\r\n", b"\n"):
                return line
        raise HttpError(400, "too many empty lines before the request line")

    async def read_request_head(self, reader):
        """Returns a Request (body not read yet), or None when the connection should end."""
        line = await self.read_request_line(reader)
        if line is None:
            return None
        method, target, minor = parse_request_line(strip_eol(line))
        headers = await self.read_fields(reader, MAX_HEAD - len(line))
        req = Request(method, target, minor, headers)
        apply_framing(req)
        return req

    async def read_fields(self, reader, budget):
        """Header (or trailer) lines up to the empty line."""
        fields = []
        while True:
            line = await self.read_line(reader, 431)
            budget -= len(line)
            if budget < 0 or len(fields) >= MAX_HEADERS:
                raise HttpError(431, "request header section too large")
            line = strip_eol(line)
            if not line:
                return fields
            fields.append(parse_field(line))

    async def read_body(self, reader, req):
        """Yields the request body in pieces of at most CHUNK bytes, as they arrive."""
        if not req.chunked:
            remaining = req.length
            while remaining:
                data = await reader.read(min(CHUNK, remaining))
                if not data:
                    raise ClientGone()
                remaining -= len(data)
                yield data
            return
        while True:
            line = strip_eol(await self.read_line(reader, 400))
            size_field = line.split(b";", 1)[0].rstrip(b" \t")  # chunk extensions are ignored
            if not HEX_RE.fullmatch(size_field):
                raise HttpError(400, "malformed chunk size")
            remaining = int(size_field, 16)
            if remaining == 0:
                req.trailers = await self.read_fields(reader, MAX_HEAD)
                return
            while remaining:
                data = await reader.read(min(CHUNK, remaining))
                if not data:
                    raise ClientGone()
                remaining -= len(data)
                yield data
            if await self.read_line(reader, 400) not in (b"\r\n", b"\n"):
                raise HttpError(400, "chunk data not followed by CRLF")

    async def consume_body(self, reader, req):
        total = 0
        async for data in self.read_body(reader, req):
            total += len(data)
        return total

    async def continue_if_expected(self, writer, req):
        """Expect: 100-continue: the client waits for this before sending the body.
        HTTP/1.0 clients cannot understand 1xx responses (RFC 9110 section 10.1.1)."""
        expect = comma_tokens(req.values("expect"))
        if not expect:
            return
        if any(e != "100-continue" for e in expect):
            raise HttpError(417, "only 100-continue is supported")
        if req.minor >= 1:
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            await writer.drain()

    # -- answering -----------------------------------------------------------------------------

    async def pause(self, req, params):
        delay = params.delay_ms
        if req.path not in UNCOUNTED_PATHS:
            delay += self.delay_ms
        if delay:
            await asyncio.sleep(delay / 1000)

    def head_bytes(self, req, status, headers, keep_alive, extra=()):
        """The response head; `extra` (the header= parameters) goes last, after ours."""
        lines = ["HTTP/1.1 %d %s" % (status, reason_phrase(status))]
        lines += ["%s: %s" % h for h in headers]
        lines.append("X-Backend: " + self.name)
        lines.append("Date: " + http_date())
        if any(name.lower() == "connection" for name, _ in extra):
            pass  # header=Connection:... given: do not contradict or duplicate it
        elif not keep_alive:
            lines.append("Connection: close")
        elif req is not None and req.minor == 0:
            lines.append("Connection: keep-alive")
        lines += ["%s: %s" % h for h in extra]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def write_error(self, writer, err):
        body = (err.message + "\n").encode()
        headers = [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))]
        writer.write(self.head_bytes(None, err.status, headers, False) + body)

    async def dispatch(self, reader, writer, req):
        params = Params.parse(req.query)
        if self.request_log is not None and req.path not in UNCOUNTED_PATHS:
            self.request_log.write("%s %s %s\n" % (req.method, req.target, req.get("x-test-id", "-")))
        if self.failing and req.path not in UNCOUNTED_PATHS:
            await self.continue_if_expected(writer, req)
            await self.consume_body(reader, req)
            await self.pause(req, params)
            plain = Params()
            return await self.send_response(writer, req, plain, 503, "text/plain", b"failing\n")
        if req.path == "/ws":
            return await self.websocket(reader, writer, req, params)
        if req.path == "/echo" and not (params.bad or params.close == "early"):
            return await self.echo(reader, writer, req, params)

        await self.continue_if_expected(writer, req)
        received = await self.consume_body(reader, req)
        await self.pause(req, params)
        if params.close == "early":
            return ABORT
        if params.bad:
            writer.write(b"HTTP/1.1 2x0 Nope\r\nContent-Length: 0\r\nX-Backend: %s\r\n\r\n"
                         % self.name.encode())
            await writer.drain()
            return ABORT
        status, content_type, body = self.route(req, params, received)
        return await self.send_response(writer, req, params, status, content_type, body, reader)

    def route(self, req, params, received):
        """(status, content type, body) for the path; body is bytes, or an int meaning that
        many bytes of the generated pattern."""
        path = req.path
        status = 200
        if path == "/sink":
            content_type, body = "application/json", json_body({"bytes": received})
        elif path == "/headers":
            info = {"method": req.method, "target": req.target, "version": req.version,
                    "headers": req.headers}
            if req.trailers:
                info["trailers"] = req.trailers
            content_type, body = "application/json", json_body(info)
        elif path == "/stats":
            content_type, body = "application/json", json_body({
                "name": self.name, "connections": self.connections,
                "active_connections": self.active, "requests": self.requests,
                "in_flight": self.in_flight})
        elif path == "/healthz":
            status = 200 if self.healthy else 503
            content_type, body = "text/plain", b"ok" if self.healthy else b"unhealthy"
        elif path == "/control":
            return self.control(params)
        else:
            content_type = "text/plain"
            body = params.size if params.size is not None else (self.name + "\n").encode()
            if params.echo_header is not None:
                body = (req.get(params.echo_header.lower(), "") + "\n").encode("latin-1")
            if params.counter:
                body = ("%s %d\n" % (self.name, self.requests)).encode()
        if params.status is not None:
            status = params.status
        if params.etag is not None and req.method in ("GET", "HEAD"):
            tags = comma_tokens(req.values("if-none-match"))
            etag = params.etag.lower()
            if "*" in tags or etag in tags or "w/" + etag in tags:
                status = 304
        return status, content_type, body

    def control(self, params):
        for key, value in params.raw:
            if key in ("healthy", "fail"):
                if value not in ("0", "1"):
                    return 400, "text/plain", b"healthy and fail take 0 or 1\n"
                if key == "healthy":
                    self.healthy = value == "1"
                else:
                    self.failing = value == "1"
        state = {"name": self.name, "healthy": self.healthy, "fail": self.failing}
        return params.status or 200, "application/json", json_body(state)

    def response_framing(self, req, params, status, keep_alive, headers, length):
        """Adds the framing headers; returns (mode, keep_alive). mode is None (no body),
        "length", "chunked" or "eof" (HTTP/1.0 client: the body ends when we close)."""
        if status < 200 or status in (204, 304):
            return None, keep_alive
        if params.chunked or length is None:
            if req.minor == 0:
                return "eof", False
            headers.append(("Transfer-Encoding", "chunked"))
            if params.trailer:
                headers.append(("Trailer", "X-Trailer"))
            return "chunked", keep_alive
        headers.append(("Content-Length", str(length)))
        return "length", keep_alive

    async def send_response(self, writer, req, params, status, content_type, body, reader=None):
        length = body if isinstance(body, int) else len(body)
        keep_alive = req.keep_alive and not params.asks_close()
        headers = [("Content-Type", content_type)]
        mode, keep_alive = self.response_framing(req, params, status, keep_alive, headers, length)
        if mode is None:
            headers = []
        head = self.head_bytes(req, status, headers, keep_alive, params.headers)
        out = BodyWriter(writer, head, mode == "chunked")
        if mode is None or req.method == "HEAD":
            await out.flush()
            if params.close == "mid":
                return ABORT  # no body to cut in half: just hang up after the head
            return KEEP if keep_alive else CLOSE
        limit = length // 2 if params.close in ("mid", "stall") else length
        sent = 0
        while sent < limit:
            n = min(CHUNK, limit - sent)
            await out.write(pattern_slice(sent, n) if isinstance(body, int)
                            else body[sent:sent + n])
            sent += n
        if params.close in ("mid", "stall"):
            await out.flush()
            if params.close == "stall":
                await self.stall(reader)
            return ABORT
        await out.finish([("X-Trailer", "done")] if params.trailer else ())
        if params.after is not None:  # bytes beyond the response: the connection is out of step
            writer.write(params.after)
            await writer.drain()
        return KEEP if keep_alive and mode != "eof" else CLOSE

    async def stall(self, reader):
        """Sends nothing more until the client closes (EOF) or STALL_SECONDS pass."""
        try:
            await asyncio.wait_for(reader.read(), STALL_SECONDS)
        except (asyncio.TimeoutError, ConnectionError):
            pass

    async def echo(self, reader, writer, req, params):
        """Streams the request body back as it arrives, framed like the request."""
        await self.continue_if_expected(writer, req)
        await self.pause(req, params)
        status = params.status or 200
        keep_alive = req.keep_alive and not params.asks_close()
        length = None if req.chunked else req.length
        headers = [("Content-Type", req.get("content-type", "application/octet-stream")),
                   ("X-Request-Method", req.method)]
        mode, keep_alive = self.response_framing(req, params, status, keep_alive, headers, length)
        if mode is None:
            headers = [("X-Request-Method", req.method)]
        head = self.head_bytes(req, status, headers, keep_alive, params.headers)
        out = BodyWriter(writer, head, mode == "chunked")
        await out.flush()  # the head goes out before the body is read: true streaming
        discard = mode is None or req.method == "HEAD"
        # close=mid: echo half the body, then hang up. A chunked request has no known total,
        # so there it is half of the first piece.
        half = req.length // 2 if not req.chunked else None
        sent = 0
        try:
            async for data in self.read_body(reader, req):
                if discard:
                    continue
                if params.close == "mid":
                    data = data[:len(data) // 2] if half is None else data[:half - sent]
                    await out.write(data)
                    sent += len(data)
                    if half is None or sent >= half:
                        break
                    continue
                await out.write(data)
                await out.flush()
        except HttpError:  # a malformed chunked body after our head went out: nothing to say
            return ABORT
        if params.close == "mid":
            await out.flush()
            return ABORT
        if discard:
            return KEEP if keep_alive else CLOSE
        trailers = list(map(tuple, req.trailers))
        if params.trailer:
            trailers.append(("X-Trailer", "done"))
        await out.finish(trailers)
        return KEEP if keep_alive and mode != "eof" else CLOSE

    # -- WebSocket -----------------------------------------------------------------------------

    @staticmethod
    def websocket_refusal(req):
        """Why this is not an acceptable RFC 6455 handshake: (status, message, headers) or None."""
        if (req.method != "GET" or req.minor < 1
                or "websocket" not in comma_tokens(req.values("upgrade"))
                or "upgrade" not in comma_tokens(req.values("connection"))):
            return 400, b"not a websocket upgrade request\n", []
        if req.get("sec-websocket-version") != "13":
            return 426, b"unsupported websocket version\n", [("Sec-WebSocket-Version", "13")]
        try:
            key = base64.b64decode(req.get("sec-websocket-key", ""), validate=True)
        except (binascii.Error, ValueError):
            key = b""
        if len(key) != 16:
            return 400, b"bad Sec-WebSocket-Key\n", []
        return None

    async def websocket(self, reader, writer, req, params):
        await self.consume_body(reader, req)
        refusal = self.websocket_refusal(req)
        if refusal:
            status, message, headers = refusal
            plain = Params()
            plain.headers = headers
            return await self.send_response(writer, req, plain, status, "text/plain", message)
        key = req.get("sec-websocket-key")
        await self.pause(req, params)
        headers = [("Upgrade", "websocket"), ("Connection", "Upgrade"),
                   ("Sec-WebSocket-Accept", ws_accept_key(key))]
        protocols = [p.strip() for v in req.values("sec-websocket-protocol")
                     for p in v.split(",") if p.strip()]  # case-sensitive, unlike comma_tokens
        if protocols:  # pick the first offered subprotocol (the client offered it, so fine)
            headers.append(("Sec-WebSocket-Protocol", protocols[0]))
        writer.write(self.head_bytes(req, 101, headers, True, params.headers))
        await writer.drain()
        try:
            await self.websocket_echo(reader, writer)
        except WsProtocolError as err:
            writer.write(ws_frame_head(0x88, 2) + struct.pack("!H", err.code))
            await writer.drain()
        except asyncio.IncompleteReadError:
            pass
        return ABORT  # the TCP connection ends with the WebSocket

    async def websocket_echo(self, reader, writer):
        fragmented = False  # inside a fragmented text/binary message
        while True:
            first, second = await reader.readexactly(2)
            fin, opcode = first & 0x80, first & 0x0F
            if first & 0x70 or not second & 0x80:  # no extensions; clients must mask
                raise WsProtocolError(1002)
            length = second & 0x7F
            if length == 126:
                (length,) = struct.unpack("!H", await reader.readexactly(2))
            elif length == 127:
                (length,) = struct.unpack("!Q", await reader.readexactly(8))
                if length >> 63:
                    raise WsProtocolError(1002)
            mask = await reader.readexactly(4)

            if opcode >= 0x8:  # control frames: small, never fragmented
                if not fin or length > 125 or opcode > 0xA:
                    raise WsProtocolError(1002)
                payload = ws_unmask(await reader.readexactly(length), mask, 0)
                if opcode == 0x8:
                    await self.websocket_close(writer, payload)
                    return
                if opcode == 0x9:  # ping -> pong with the same payload
                    writer.write(ws_frame_head(0x8A, length) + payload)
                    await writer.drain()
                continue  # pong: nothing to do

            if opcode > 0x2 or (opcode == 0x0) != fragmented:
                raise WsProtocolError(1002)  # reserved opcode or bad continuation sequence
            fragmented = not fin
            # Echo frame by frame, streaming the payload so big frames use bounded memory.
            writer.write(ws_frame_head(first, length))
            offset = 0
            while offset < length:
                data = await reader.read(min(CHUNK, length - offset))
                if not data:
                    raise asyncio.IncompleteReadError(b"", length - offset)
                writer.write(ws_unmask(data, mask, offset))
                offset += len(data)
                await writer.drain()
            await writer.drain()

    async def websocket_close(self, writer, payload):
        """Answer a close frame by echoing its status code, then end the connection."""
        if len(payload) == 1:
            reply = struct.pack("!H", 1002)
        else:
            reply = payload[:2]
        writer.write(ws_frame_head(0x88, len(reply)) + reply)
        await writer.drain()


# ---------------------------------------------------------------------------------------------
# Startup


def listen_sockets(host, port):
    """Bind every address `host` resolves to (IPv4 first), all on the same port: with --port 0
    the first bind picks the port and the others reuse it, so `listening <port>` is true for
    each of them. Extra addresses that cannot be bound (e.g. no IPv6) are skipped."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    infos.sort(key=lambda info: info[0] != socket.AF_INET)
    sockets = []
    for family, kind, proto, _, address in infos:
        sock = socket.socket(family, kind, proto)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            if sockets:
                address = (address[0], port) + tuple(address[2:])
            sock.bind(address)
        except OSError:
            sock.close()
            if not sockets:
                raise
            continue
        sockets.append(sock)
        port = sock.getsockname()[1]
    return sockets, port


async def serve(args):
    backend = Backend(args)
    sockets, port = listen_sockets(args.host, args.port)
    servers = [await asyncio.start_server(backend.handle_connection, sock=sock, limit=MAX_HEAD,
                                          backlog=1024)
               for sock in sockets]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    # Only now: whoever waits for this line may signal us right away.
    print("listening %d" % port, flush=True)
    await stop.wait()

    # Exit promptly: stop accepting, drop every open connection, do not wait for clients.
    for server in servers:
        server.close()
    for task in list(backend.tasks):
        task.cancel()
    if backend.tasks:
        await asyncio.wait(list(backend.tasks), timeout=1)


def parse_args(argv):
    def non_negative(text):
        value = int(text)
        if value < 0:
            raise argparse.ArgumentTypeError("must be >= 0")
        return value

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", default="backend", help="backend name (default body, X-Backend)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=non_negative, default=0, help="0 picks a free port")
    parser.add_argument("--delay-ms", type=non_negative, default=0,
                        help="delay before every response head")
    parser.add_argument("--idle-close-ms", type=non_negative, default=0,
                        help="silently close connections idle this long (0: never)")
    parser.add_argument("--max-requests-per-conn", type=non_negative, default=0,
                        help="silently close a connection after this many responses (0: never)")
    parser.add_argument("--log-requests", default=None, metavar="FILE",
                        help="append 'METHOD TARGET X-Test-Id' for every request head received")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        asyncio.run(serve(args))
    except KeyboardInterrupt:  # SIGINT before the handler was installed
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
