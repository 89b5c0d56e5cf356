"""The proxy's HTTP client for its hop to one service: aiohttp (keep-alive pool, C parser),
configured to forward rather than browse, and its failures translated into the few kinds
the proxy answers differently.

Configured to pass requests and answers through untouched: no cookie jar, no
decompression, no redirects, no environment proxies, and none of the headers aiohttp adds
on its own (Accept, Accept-Encoding, User-Agent, Content-Type): the service sees what the
caller sent, the caller gets what the service sent. Idle connections are dropped after
4 s, before uvicorn's keep-alive timeout (5 s) closes them from the other end.

Why aiohttp rather than httpx: ``docs/decisions/aiohttp-for-the-gateway-proxy-hop.md``.

The one mechanism of our own is the wait for a free connection (`_acquire`): aiohttp
reports "no free connection in time" and "the service did not accept a connection in time"
with the same exception, and the proxy must tell them apart: the first is 503 at once (a
retry would only add load), the second is retried, then 504. The connector's own limit is
the same number, a backstop that requests do not wait on (if ever, within the connect
timeout).

Note that aiohttp, as RFC 9112 § 9.3.1 allows, sends an idempotent request once more by
itself when a reused keep-alive connection turns out closed before any answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
from yarl import URL

from shared.tracing import aiohttp_trace_configs


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
    read_s: float  # the longest silence of the service while we wait to read from it
    pool_s: float


# Headers aiohttp would add to every request; the caller's own, if any, are forwarded.
SKIP_AUTO_HEADERS = ("Accept", "Accept-Encoding", "User-Agent", "Content-Type")


def _translated(exc: Exception) -> UpstreamTransportError:
    """aiohttp's failure as one of the kinds the proxy maps to a status."""
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return ConnectTimedOut(str(exc) or "no connection in time")
    if isinstance(exc, aiohttp.ServerTimeoutError):  # sock_read: the service went silent
        return ReadTimedOut(str(exc) or "no answer in time")
    if isinstance(exc, aiohttp.ClientConnectorError):
        return ConnectFailed(f"cannot connect: {exc}")
    return ConnectionBroken(f"{type(exc).__name__}: {exc}")


class UpstreamResponse:
    """An answer whose status and headers have arrived; the body is read with `read` or
    `iter_body`, and `aclose` must be called (it gives the connection back, or closes it
    if the body was not read to the end)."""

    def __init__(self, response: aiohttp.ClientResponse, slots: asyncio.Semaphore) -> None:
        self._response: aiohttp.ClientResponse | None = response
        self._slots = slots
        self.status_code = response.status
        # Lower-case names, repeated headers (Set-Cookie, Link…) kept in order.
        self.headers = [(name.lower(), value) for name, value in response.raw_headers]

    def header(self, name: bytes) -> bytes | None:
        """The first value of a (lower-case) header, or None."""
        for key, value in self.headers:
            if key == name:
                return value
        return None

    async def read(self) -> bytes:
        if self._response is None:
            raise RuntimeError("the response is closed")
        try:
            return await self._response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise _translated(exc) from exc

    async def iter_body(self) -> AsyncIterator[bytes]:
        """The body as it arrives (an event stream is relayed event by event)."""
        if self._response is None:
            raise RuntimeError("the response is closed")
        try:
            async for chunk in self._response.content.iter_any():
                yield chunk
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise _translated(exc) from exc

    async def aclose(self) -> None:
        response, self._response = self._response, None
        if response is not None:
            response.release()
            self._slots.release()


class UpstreamClient:
    """A pool of keep-alive connections to one service (``http://host[:port][/path]``)."""

    def __init__(
        self,
        base_url: str,
        *,
        timeouts: Timeouts,
        max_connections: int,
        idle_expiry_s: float,
    ) -> None:
        url = URL(base_url)
        if url.scheme != "http" or not url.host:
            raise ValueError(f"upstream URL must be http://host[:port][/path]: {base_url!r}")
        self.base = base_url.rstrip("/")
        self.timeouts = timeouts
        self.max_connections = max_connections
        self.idle_expiry_s = idle_expiry_s
        self._slots = asyncio.Semaphore(max_connections)
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        # Made on first use: aiohttp binds a session to the running event loop, and the
        # gateway's pool is built before uvicorn starts its loop.
        connector = aiohttp.TCPConnector(
            limit=self.max_connections,
            keepalive_timeout=self.idle_expiry_s,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(
                total=None,
                connect=self.timeouts.connect_s,
                sock_connect=self.timeouts.connect_s,
                sock_read=self.timeouts.read_s,
            ),
            cookie_jar=aiohttp.DummyCookieJar(),
            auto_decompress=False,
            skip_auto_headers=SKIP_AUTO_HEADERS,
            trust_env=False,
            raise_for_status=False,
            # With tracing on: a client span per hop, and its traceparent sent to the service.
            trace_configs=aiohttp_trace_configs(),
        )
        return self._session

    async def send(
        self, method: str, target: str, headers: list[tuple[str, str]], body: bytes
    ) -> UpstreamResponse:
        """Send one request and wait for the status and headers of its answer.

        ``target`` is the path and query as the caller encoded them: sent as they are."""
        session = self._session or self._open()
        await self._acquire()
        try:
            response = await session.request(
                method,
                URL(self.base + target, encoded=True),
                headers=headers,
                data=body or None,
                allow_redirects=False,
            )
        except BaseException as exc:
            self._slots.release()
            if isinstance(exc, aiohttp.ClientError | TimeoutError):
                raise _translated(exc) from exc
            raise
        return UpstreamResponse(response, self._slots)

    async def _acquire(self) -> None:
        if not self._slots.locked():
            await self._slots.acquire()  # free: returns without suspending
            return
        try:
            async with asyncio.timeout(self.timeouts.pool_s):
                await self._slots.acquire()
        except TimeoutError:
            raise PoolTimedOut("every connection to the service is busy") from None

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()
