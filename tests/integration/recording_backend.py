"""A strict HTTP/1.1 backend that records exactly the bytes it receives (Python stdlib only).

It is a real TCP server on 127.0.0.1, one thread per connection. Each connection's bytes are kept
as received; requests are parsed strictly (RFC 9112: Content-Length or chunked framing with the
exact chunk grammar) and kept in `requests`. Bytes it cannot parse are recorded in `errors`, and
the connection is closed. Every request gets `response` (raw bytes, a fixed 200 by default), so a
test can also play a hostile backend by handing it malformed responses.
"""

import re
import socket
import threading

OK = b'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n'

TOKEN = rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
QUOTED = rb'"(?:[\t \x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t \x21-\x7e\x80-\xff])*"'
CHUNK_EXT = rb'(?:[ \t]*;[ \t]*' + TOKEN + rb'(?:[ \t]*=[ \t]*(?:' + TOKEN + rb'|' + QUOTED + rb'))?)*'
CHUNK_LINE = re.compile(rb'([0-9A-Fa-f]+)(' + CHUNK_EXT + rb')\r\n')
FIELD_LINE = re.compile(rb'(' + TOKEN + rb'):[ \t]*([\t\x20-\x7e\x80-\xff]*?)[ \t]*\r\n')
REQUEST_LINE = re.compile(rb'(' + TOKEN + rb') (\S+) HTTP/1\.([01])\r\n')


class NeedMore(Exception):
    pass


class Malformed(Exception):
    pass


class Request:
    def __init__(self, method, target, headers, body, trailers, chunk_lines):
        self.method = method
        self.target = target
        self.headers = headers          # [(name, value)] as bytes, in order
        self.body = body
        self.trailers = trailers        # [(name, value)]
        self.chunk_lines = chunk_lines  # the chunk-size lines as received (chunked bodies)

    def header(self, name):
        for n, v in self.headers:
            if n.lower() == name.lower():
                return v
        return None

    def __repr__(self):
        return 'Request(%r %r, %d body bytes)' % (self.method, self.target, len(self.body))


def _fields(data, pos):
    """Field lines up to the blank line; returns (fields, position after the blank line)."""
    fields = []
    while True:
        if data.startswith(b'\r\n', pos):
            return fields, pos + 2
        end = data.find(b'\r\n', pos)
        if end < 0:
            raise NeedMore()
        m = FIELD_LINE.fullmatch(data, pos, end + 2)
        if not m:
            raise Malformed('bad field line %r' % data[pos:end + 2])
        fields.append((m.group(1), m.group(2)))
        pos = end + 2


def parse_request(data):
    """One request from the start of `data`: (Request, bytes used). NeedMore or Malformed."""
    end = data.find(b'\r\n')
    if end < 0:
        raise NeedMore()
    m = REQUEST_LINE.fullmatch(data, 0, end + 2)
    if not m:
        raise Malformed('bad request line %r' % data[:end + 2])
    headers, pos = _fields(data, end + 2)
    names = [n.lower() for n, _ in headers]
    te = [v for n, v in headers if n.lower() == b'transfer-encoding']
    cl = [v for n, v in headers if n.lower() == b'content-length']
    if te and cl:
        raise Malformed('both Content-Length and Transfer-Encoding')
    if names.count(b'host') != 1:
        raise Malformed('Host missing or repeated')
    body, trailers, chunk_lines = b'', [], []
    if te:
        if te != [b'chunked']:
            raise Malformed('Transfer-Encoding %r' % te)
        while True:
            line_end = data.find(b'\r\n', pos)
            if line_end < 0:
                raise NeedMore()
            cm = CHUNK_LINE.fullmatch(data, pos, line_end + 2)
            if not cm:
                raise Malformed('bad chunk line %r' % data[pos:line_end + 2])
            chunk_lines.append(data[pos:line_end + 2])
            size = int(cm.group(1), 16)
            pos = line_end + 2
            if size == 0:
                trailers, pos = _fields(data, pos)
                break
            if len(data) < pos + size + 2:
                raise NeedMore()
            if data[pos + size:pos + size + 2] != b'\r\n':
                raise Malformed('chunk data longer than its size')
            body += data[pos:pos + size]
            pos += size + 2
    elif cl:
        if len(cl) != 1 or not cl[0].isdigit():
            raise Malformed('Content-Length %r' % cl)
        n = int(cl[0])
        if len(data) < pos + n:
            raise NeedMore()
        body = data[pos:pos + n]
        pos += n
    return Request(m.group(1), m.group(2), headers, body, trailers, chunk_lines), pos


class RecordingBackend:
    def __init__(self, response=OK):
        self.response = response
        self.lock = threading.Lock()
        self.received = []   # one bytearray per connection, as received
        self.requests = []
        self.errors = []
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen(128)
        self.address = '127.0.0.1:%d' % self.sock.getsockname()[1]
        self.stopped = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def all_bytes(self):
        with self.lock:
            return b''.join(bytes(r) for r in self.received)

    def _accept(self):
        while not self.stopped:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        record = bytearray()
        with self.lock:
            self.received.append(record)
        pending = b''
        conn.settimeout(30)
        try:
            while True:
                try:
                    request, used = parse_request(pending)
                except NeedMore:
                    data = conn.recv(65536)
                    if not data:
                        if pending:
                            with self.lock:
                                self.errors.append('closed mid-request: %r' % pending[:200])
                        return
                    with self.lock:
                        record.extend(data)
                    pending += data
                    continue
                except Malformed as e:
                    with self.lock:
                        self.errors.append(str(e))
                    return
                pending = pending[used:]
                with self.lock:
                    self.requests.append(request)
                conn.sendall(self.response)
        except OSError:
            pass
        finally:
            conn.close()

    def stop(self):
        self.stopped = True
        self.sock.close()
