"""The gateway's HTTP/1.1 client for its hop to the services: keep-alive connections in a
LIFO pool, responses parsed by httptools (the C parser uvicorn already uses).

Why not httpx here: profiling the gateway under load (py-spy, 32 connections) showed httpx
+ httpcore taking about 60 % of the gateway's CPU per proxied request, half of it in the
connection pool, which on every request polls each pooled connection with a ``select()``
to find dead ones (O(pool size) system calls per request), the rest in h11's pure-Python
parsing and the layers of request/response objects. The hop needs very little of that: one
known service, HTTP/1.1 only, bodies the gateway has already read whole, no redirects,
cookies, auth or proxies. Here a dead keep-alive connection is noticed when it happens
(``connection_lost``), the most recently used connection is reused first (warm, and the
others age out), and a request is one ``write`` and one parser feed. httpx stays for the
gateway's other, rare calls (OpenAPI documents).

Errors are the ones the proxy maps to problem+json, one for one with the httpx ones it
used to map: `ConnectFailed` (ConnectError), `ConnectionBroken` (RemoteProtocolError,
ReadError, WriteError), `ConnectTimedOut`, `ReadTimedOut` and `PoolTimedOut`. There is no
separate write timeout: the read timeout runs from the moment the request is written, so a
service that stops reading our body times out all the same.
"""

from __future__ import annotations

import asyncio
import collections
import select
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import cast
from urllib.parse import urlsplit

import httptools


class UpstreamTransportError(Exception):
    """The exchange with the service failed below HTTP (connection, timeout, framing)."""


class ConnectFailed(UpstreamTransportError):
    """No connection could be opened (refused, unreachable): nothing was sent."""


class ConnectionBroken(UpstreamTransportError):
    """The connection failed or closed before the answer was complete."""


class UpstreamTimeout(UpstreamTransportError):
    pass


class ConnectTimedOut(UpstreamTimeout):
    pass


class ReadTimedOut(UpstreamTimeout):
    pass


class PoolTimedOut(UpstreamTimeout):
    """Every connection stayed busy for the whole pool timeout."""


@dataclass(frozen=True, slots=True)
class Timeouts:
    connect_s: float
    read_s: float
    pool_s: float


# Stop reading from the service when this much of a streamed answer waits for the caller.
_HIGH_WATER = 256 * 1024
_LOW_WATER = 64 * 1024
# A connection idle for longer than this is checked for a close we have not processed yet
# before it is reused (one select(), only for connections that sat idle).
_STALE_CHECK_AFTER_S = 1.0


class _Connection(asyncio.Protocol):
    """One keep-alive connection; at most one exchange at a time."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.idle_since = 0.0
        self._parser = httptools.HttpResponseParser(self)
        self._reset()

    def _reset(self) -> None:
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.chunks: collections.deque[bytes] = collections.deque()
        self.buffered = 0
        self.complete = False
        self.keep_alive = False
        self.error: UpstreamTransportError | None = None
        self._head_request = False
        self._informational = False
        self._headers_waiter: asyncio.Future[None] | None = None
        self._data_waiter: asyncio.Future[None] | None = None
        self._paused = False
        self._timer: asyncio.TimerHandle | None = None
        self._last_activity = 0.0
        self._read_timeout = 0.0

    # --- asyncio.Protocol --------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, only alike.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self._last_activity = self.loop.time()
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(ConnectionBroken(f"malformed answer: {exc}"))
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._timer is not None:
            self._timer.cancel()
        if not self.complete and self.status and not self._length_delimited():
            # An answer without Content-Length or chunking ends when the connection does.
            self._complete()
            return
        self._fail(ConnectionBroken(f"connection closed by the service ({exc or 'EOF'})"))

    # --- httptools callbacks -----------------------------------------------------------

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name.lower(), value))

    def on_headers_complete(self) -> None:
        status = self._parser.get_status_code()
        if 100 <= status < 200:  # an interim answer (100 Continue…): wait for the real one
            self._informational = True
            self.headers = []
            return
        self.status = status
        # Asked now: once the message is complete, llhttp has reset the flags it reads.
        self.keep_alive = self._parser.should_keep_alive()
        if self._head_request:
            # httptools cannot be told to expect no body after HEAD: finish here, and never
            # reuse this connection (the parser would wait for Content-Length bytes).
            self.closed = True
            self._complete()
            return
        _wake(self._headers_waiter)

    def on_body(self, body: bytes) -> None:
        if self.complete:  # after HEAD: bytes that cannot belong to this answer
            return
        self.chunks.append(body)
        self.buffered += len(body)
        if self.buffered > _HIGH_WATER and not self._paused and not self.closed:
            self._paused = True
            assert self.transport is not None
            self.transport.pause_reading()
        _wake(self._data_waiter)

    def on_message_complete(self) -> None:
        if self._informational:
            self._informational = False
            return
        self._complete()

    # --- the exchange ------------------------------------------------------------------

    def _length_delimited(self) -> bool:
        for name, value in self.headers:
            if name == b"content-length" or (
                name == b"transfer-encoding" and b"chunked" in value.lower()
            ):
                return True
        return False

    def _complete(self) -> None:
        self.complete = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        _wake(self._headers_waiter)
        _wake(self._data_waiter)

    def _fail(self, error: UpstreamTransportError) -> None:
        if self.complete or self.error is not None:
            return
        self.error = error
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        _wake(self._headers_waiter)
        _wake(self._data_waiter)

    def _on_timer(self) -> None:
        # One timer per exchange, pushed back lazily: re-arming it on every chunk received
        # would cost a heap operation per chunk.
        idle = self.loop.time() - self._last_activity
        if self._paused:  # we stopped reading (a slow caller downstream): not the service
            idle = 0.0
        if idle < self._read_timeout:
            self._timer = self.loop.call_later(self._read_timeout - idle, self._on_timer)
            return
        self._timer = None
        self._fail(ReadTimedOut(f"no answer for {self._read_timeout:g}s"))
        self.close()

    def send(self, data: bytes, *, head: bool, read_timeout: float) -> None:
        if self.closed or self.transport is None or self.transport.is_closing():
            raise ConnectionBroken("connection closed by the service while idle")
        self._reset()
        self._head_request = head
        self._read_timeout = read_timeout
        self._last_activity = self.loop.time()
        self._timer = self.loop.call_later(read_timeout, self._on_timer)
        assert self.transport is not None
        self.transport.write(data)

    async def wait_headers(self) -> None:
        while not self.status and not self.complete and self.error is None:
            self._headers_waiter = self.loop.create_future()
            await self._headers_waiter
            self._headers_waiter = None
        if self.error is not None:
            raise self.error

    async def next_chunk(self) -> bytes | None:
        """The next piece of the body, or None at its end."""
        while not self.chunks:
            if self.error is not None:
                raise self.error
            if self.complete:
                return None
            self._data_waiter = self.loop.create_future()
            await self._data_waiter
            self._data_waiter = None
        chunk = self.chunks.popleft()
        self.buffered -= len(chunk)
        if self._paused and self.buffered < _LOW_WATER and not self.closed:
            self._paused = False
            assert self.transport is not None
            self.transport.resume_reading()
        return chunk

    @property
    def reusable(self) -> bool:
        return self.complete and self.keep_alive and not self.closed

    def is_stale(self, now: float) -> bool:
        """A close the event loop has not delivered yet (idle connections only)."""
        if self.closed:
            return True
        if now - self.idle_since < _STALE_CHECK_AFTER_S or self.transport is None:
            return False
        sock = self.transport.get_extra_info("socket")
        if sock is None:
            return False
        readable, _, _ = select.select([sock.fileno()], [], [], 0)
        return bool(readable)  # an idle connection has nothing to say, except EOF

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


def _wake(waiter: asyncio.Future[None] | None) -> None:
    if waiter is not None and not waiter.done():
        waiter.set_result(None)


class UpstreamResponse:
    """An answer whose status and headers have arrived; the body is read with `read` or
    `iter_body`, and `aclose` must be called (it gives the connection back)."""

    def __init__(self, client: UpstreamClient, conn: _Connection) -> None:
        self._client = client
        self._conn: _Connection | None = conn
        self.status_code = conn.status
        self.headers = conn.headers

    def header(self, name: bytes) -> bytes | None:
        """The first value of a (lower-case) header, or None."""
        for key, value in self.headers:
            if key == name:
                return value
        return None

    async def read(self) -> bytes:
        conn = self._conn
        if conn is None:
            raise RuntimeError("the response is closed")
        if conn.complete and len(conn.chunks) <= 1:  # the usual case: all arrived already
            body = conn.chunks.popleft() if conn.chunks else b""
            conn.buffered = 0
            return body
        return b"".join([chunk async for chunk in self.iter_body()])

    async def iter_body(self) -> AsyncIterator[bytes]:
        conn = self._conn
        if conn is None:
            raise RuntimeError("the response is closed")
        while (chunk := await conn.next_chunk()) is not None:
            yield chunk

    async def aclose(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            self._client.release(conn)


class UpstreamClient:
    """A pool of keep-alive connections to one service."""

    def __init__(
        self,
        base_url: str,
        *,
        timeouts: Timeouts,
        max_connections: int,
        max_idle: int,
        idle_expiry_s: float,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"upstream URL must be http://host[:port][/path]: {base_url!r}")
        self.host = parts.hostname
        self.port = parts.port or 80
        self.base_path = parts.path.rstrip("/")
        self.authority = parts.netloc.encode("latin-1")
        self.timeouts = timeouts
        self.max_idle = max_idle
        self.idle_expiry_s = idle_expiry_s
        self._idle: list[_Connection] = []
        self._slots = asyncio.Semaphore(max_connections)
        self._open: set[_Connection] = set()

    def request_head(
        self, method: str, target: str, headers: list[tuple[bytes, bytes]], body: bytes
    ) -> bytes:
        """Request line and headers, ``Host`` and ``Content-Length`` set by us."""
        parts = [
            f"{method} {self.base_path}{target} HTTP/1.1\r\nhost: ".encode("latin-1"),
            self.authority,
            b"\r\n",
        ]
        for name, value in headers:
            parts += (name, b": ", value, b"\r\n")
        if body or method in ("POST", "PUT", "PATCH"):
            parts.append(b"content-length: %d\r\n" % len(body))
        parts.append(b"\r\n")
        return b"".join(parts)

    async def send(
        self, method: str, target: str, headers: list[tuple[bytes, bytes]], body: bytes
    ) -> UpstreamResponse:
        """Send one request and wait for the status and headers of its answer."""
        data = self.request_head(method, target, headers, body) + body
        conn = await self._acquire()
        try:
            conn.send(data, head=method == "HEAD", read_timeout=self.timeouts.read_s)
            await conn.wait_headers()
        except BaseException:
            conn.close()
            self.release(conn)
            raise
        return UpstreamResponse(self, conn)

    async def _acquire(self) -> _Connection:
        if self._slots.locked():
            try:
                async with asyncio.timeout(self.timeouts.pool_s):
                    await self._slots.acquire()
            except TimeoutError:
                raise PoolTimedOut("every connection to the service is busy") from None
        else:
            await self._slots.acquire()  # free: returns without suspending
        try:
            return await self._idle_or_new()
        except BaseException:
            self._slots.release()
            raise

    async def _idle_or_new(self) -> _Connection:
        now = time.monotonic()
        while self._idle:
            conn = self._idle.pop()  # LIFO: the warmest connection
            if now - conn.idle_since < self.idle_expiry_s and not conn.is_stale(now):
                return conn
            self._discard(conn)
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.timeouts.connect_s):
                _, conn = await loop.create_connection(
                    lambda: _Connection(loop), self.host, self.port
                )
        except TimeoutError:
            raise ConnectTimedOut(f"no connection within {self.timeouts.connect_s:g}s") from None
        except OSError as exc:
            raise ConnectFailed(f"cannot connect: {exc}") from exc
        self._open.add(conn)
        return conn

    def release(self, conn: _Connection) -> None:
        """Give a connection back: kept for the next request if its answer was read to the
        end and the service keeps it open, else closed."""
        if conn not in self._open:
            return
        if conn.reusable and len(self._idle) < self.max_idle:
            conn.idle_since = time.monotonic()
            self._idle.append(conn)
        else:
            self._discard(conn)
        self._slots.release()

    def _discard(self, conn: _Connection) -> None:
        conn.close()
        self._open.discard(conn)

    async def aclose(self) -> None:
        for conn in list(self._open):
            conn.close()
        self._open.clear()
        self._idle.clear()
