"""The proxy's upstream client (aiohttp, configured to forward) against a scripted server
on a real socket, on both event loops it meets (asyncio in tests, uvloop under uvicorn)."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any

import pytest
import uvloop

from services.gateway.traffic.proxy import _streamed
from services.gateway.traffic.upstream_http import (
    ConnectFailed,
    ConnectionBroken,
    PoolTimedOut,
    ReadTimedOut,
    Timeouts,
    UpstreamClient,
)

Run = Callable[[Coroutine[Any, Any, None]], None]


@pytest.fixture(params=["asyncio", "uvloop"])
def run(request: pytest.FixtureRequest) -> Run:
    return asyncio.run if request.param == "asyncio" else uvloop.run  # type: ignore[return-value]


Script = Callable[[str, bytes, asyncio.StreamWriter], Awaitable[bool]]
"""Answers one request (path, body); returns False to close the connection."""


class Scripted:
    """A server running a script per request; counts connections, keeps request heads."""

    def __init__(self, server: asyncio.Server, accepted: list[int], heads: list[bytes]):
        self.server, self.accepted, self.heads = server, accepted, heads

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    def sent_headers(self, index: int = -1) -> list[tuple[str, str]]:
        lines = self.heads[index].decode("utf-8").split("\r\n")[1:]
        return [(k.lower(), v) for k, _, v in (line.partition(": ") for line in lines if line)]


async def _serve(script: Script) -> Scripted:
    accepted: list[int] = []
    heads: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(1)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                heads.append(head)
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                length = next(
                    (
                        int(v)
                        for k, _, v in (x.partition(": ") for x in lines[1:])
                        if k.lower() == "content-length"
                    ),
                    0,
                )
                body = await reader.readexactly(length)
                if not await script(path, body, writer):
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return Scripted(server, accepted, heads)


@asynccontextmanager
async def _client(url: str, **overrides: Any) -> AsyncIterator[UpstreamClient]:
    """A client of ``url`` (defaults overridden by ``overrides``), closed on exit."""
    values: dict[str, Any] = {
        "timeouts": Timeouts(connect_s=1.0, read_s=1.0, pool_s=0.2),
        "max_connections": 4,
        "idle_expiry_s": 30.0,
    }
    values.update(overrides)
    client = UpstreamClient(url, **values)
    try:
        yield client
    finally:
        await client.aclose()


@asynccontextmanager
async def _upstream(
    script: Script, *, base: str = "", **overrides: Any
) -> AsyncIterator[tuple[Scripted, UpstreamClient]]:
    """A server running ``script`` and a client of it (at ``base`` under its URL); the
    client is closed, then the server, on exit."""
    served = await _serve(script)
    try:
        async with _client(served.url + base, **overrides) as client:
            yield served, client
    finally:
        served.server.close()


SHORT_READ = Timeouts(connect_s=1.0, read_s=0.2, pool_s=0.2)


async def _ok(path: str, body: bytes, writer: asyncio.StreamWriter) -> bool:
    payload = f'{{"path": "{path}", "body": {len(body)}}}'.encode()
    writer.write(
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nset-cookie: a=1\r\n"
        b"set-cookie: b=2\r\ncontent-length: %d\r\n\r\n%s" % (len(payload), payload)
    )
    return True


async def _get(client: UpstreamClient, path: str, body: bytes = b"") -> tuple[int, bytes]:
    response = await client.send("POST" if body else "GET", path, [], body)
    try:
        return response.status_code, await response.read()
    finally:
        await response.aclose()


def test_keep_alive_connections_are_reused(run: Run) -> None:
    async def main() -> None:
        async with _upstream(_ok) as (served, client):
            for i in range(5):
                status, body = await _get(client, f"/n/{i}?q=1", b"x" * i)
                assert status == 200
                assert body == f'{{"path": "/n/{i}?q=1", "body": {i}}}'.encode()
            assert len(served.accepted) == 1

    run(main())


def test_the_request_goes_out_as_the_caller_sent_it(run: Run) -> None:
    """No header of aiohttp's own, no cookie jar, the path as encoded, the body's length."""

    async def main() -> None:
        async with _upstream(_ok, base="/base/", max_connections=2) as (served, client):
            for _ in range(2):  # the second one would carry the cookies set by the first
                response = await client.send(
                    "POST",
                    "/a%2Fb/%C3%A9?x=%20y&z",
                    [("x-name", "Zoë"), ("x-many", "1"), ("x-many", "2")],
                    b"{}",
                )
                assert response.status_code == 200
                await response.read()
                await response.aclose()
            assert served.heads[-1].startswith(b"POST /base/a%2Fb/%C3%A9?x=%20y&z HTTP/1.1\r\n")
            sent = served.sent_headers()
            names = [name for name, _ in sent]
            assert not {"accept", "accept-encoding", "user-agent", "content-type", "cookie"} & set(
                names
            )
            assert ("x-name", "Zoë") in sent
            assert [v for k, v in sent if k == "x-many"] == ["1", "2"]
            assert ("content-length", "2") in sent
            assert ("host", served.url.removeprefix("http://")) in sent

    run(main())


def test_compressed_answers_are_relayed_as_they_came(run: Run) -> None:
    packed = gzip.compress(b'{"a": 1}')

    async def gzipped(path: str, body: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-encoding: gzip\r\ncontent-length: %d\r\n\r\n%s"
            % (len(packed), packed)
        )
        return True

    async def main() -> None:
        async with _upstream(gzipped) as (_, client):
            response = await client.send("GET", "/", [("accept-encoding", "gzip")], b"")
            assert response.header(b"content-encoding") == b"gzip"
            assert await response.read() == packed
            await response.aclose()

    run(main())


def test_a_connection_idle_past_its_expiry_is_replaced(run: Run) -> None:
    async def main() -> None:
        async with _upstream(_ok, idle_expiry_s=0.05) as (served, client):
            assert (await _get(client, "/"))[0] == 200
            await asyncio.sleep(0.2)
            assert (await _get(client, "/"))[0] == 200
            assert len(served.accepted) == 2

    run(main())


def test_repeated_headers_arrive_in_order(run: Run) -> None:
    async def main() -> None:
        async with _upstream(_ok) as (_, client):
            response = await client.send("GET", "/", [("x-a", "1")], b"")
            assert [v for k, v in response.headers if k == b"set-cookie"] == [b"a=1", b"b=2"]
            assert response.header(b"content-type") == b"application/json"
            await response.read()
            await response.aclose()

    run(main())


def test_a_connection_the_service_closed_is_not_reused(run: Run) -> None:
    async def close_after(path: str, body: bytes, writer: asyncio.StreamWriter) -> bool:
        await _ok(path, body, writer)
        return False

    async def main() -> None:
        async with _upstream(close_after) as (served, client):
            for _ in range(3):
                assert (await _get(client, "/"))[0] == 200
                await asyncio.sleep(0.05)  # the close reaches the client
            assert len(served.accepted) == 3

    run(main())


def test_connection_close_and_unsized_answers_end_with_the_connection(run: Run) -> None:
    async def until_close(path: str, body: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nall of it")
        return False

    async def main() -> None:
        async with _upstream(until_close) as (served, client):
            assert await _get(client, "/") == (200, b"all of it")
            assert await _get(client, "/") == (200, b"all of it")
            assert len(served.accepted) == 2

    run(main())


def test_chunked_answers_are_decoded_and_streamed(run: Run) -> None:
    async def chunked(path: str, body: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
        for piece in (b"hello ", b"chunked ", b"world"):
            writer.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            await writer.drain()
            await asyncio.sleep(0.01)
        writer.write(b"0\r\n\r\n")
        return True

    async def main() -> None:
        async with _upstream(chunked) as (served, client):
            response = await client.send("GET", "/", [], b"")
            assert b"".join([c async for c in response.iter_body()]) == b"hello chunked world"
            await response.aclose()
            assert await _get(client, "/") == (200, b"hello chunked world")
            assert len(served.accepted) == 1

    run(main())


def test_events_are_relayed_as_they_arrive(run: Run) -> None:
    """An event stream: each event reaches the reader before the next one is written."""
    release = asyncio.Event()

    async def events(path: str, body: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
            b"transfer-encoding: chunked\r\n\r\n"
        )
        for n in range(3):
            event = b"id: %d\ndata: tick\n\n" % n
            writer.write(b"%x\r\n%s\r\n" % (len(event), event))
            await writer.drain()
            await release.wait()
            release.clear()
        writer.write(b"0\r\n\r\n")
        return True

    async def main() -> None:
        async with _upstream(events) as (_, client):
            response = await client.send("GET", "/stream", [], b"")
            received = []
            async for chunk in response.iter_body():
                received.append(chunk)
                release.set()
            await response.aclose()
            assert received == [b"id: %d\ndata: tick\n\n" % n for n in range(3)]

    run(main())


def test_a_large_answer_streams_through_flow_control(run: Run) -> None:
    size = 3 * 1024 * 1024

    async def big(path: str, body: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % size)
        for _ in range(size // 65536):
            writer.write(b"z" * 65536)
            await writer.drain()
        return True

    async def main() -> None:
        async with _upstream(big, timeouts=SHORT_READ) as (_, client):
            response = await client.send("GET", "/", [], b"")
            received = 0
            async for chunk in response.iter_body():
                if not received:
                    # A slow reader: the client pauses the socket, and the silence meanwhile
                    # (longer than the read timeout) is not taken for the service's.
                    await asyncio.sleep(0.5)
                received += len(chunk)
                await asyncio.sleep(0)
            await response.aclose()
            assert received == size

    run(main())


def test_a_relay_abandoned_mid_stream_gives_its_connection_back(run: Run) -> None:
    async def endless(path: str, body: bytes, writer: asyncio.StreamWriter) -> bool:
        if path == "/endless":
            writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
            for _ in range(100):
                writer.write(b"4\r\nmore\r\n")
                await writer.drain()
                await asyncio.sleep(0.01)
            return False
        return await _ok(path, body, writer)

    async def main() -> None:
        async with _upstream(endless, max_connections=1) as (served, client):
            relay = _streamed(await client.send("GET", "/endless", [], b""))
            assert await relay.__anext__() == b"more"
            await relay.aclose()  # what cancelling the caller's response does to the generator
            assert (await _get(client, "/"))[0] == 200  # the only slot is free again
            assert len(served.accepted) == 2  # the half-read connection was not reused

    run(main())


def test_interim_answers_are_skipped(run: Run) -> None:
    async def continue_first(path: str, body: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        return await _ok(path, body, writer)

    async def main() -> None:
        async with _upstream(continue_first) as (_, client):
            assert (await _get(client, "/x"))[0] == 200
            assert (await _get(client, "/y"))[0] == 200

    run(main())


def test_head_answers_end_at_the_headers(run: Run) -> None:
    async def head_then_ok(path: str, body: bytes, writer: asyncio.StreamWriter) -> bool:
        if path == "/head":
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 24\r\n\r\n")
            return True
        return await _ok(path, body, writer)

    async def main() -> None:
        async with _upstream(head_then_ok) as (_, client):
            response = await client.send("HEAD", "/head", [], b"")
            assert response.status_code == 200
            assert response.header(b"content-length") == b"24"
            assert await response.read() == b""
            await response.aclose()
            assert (await _get(client, "/"))[0] == 200

    run(main())


def test_a_silent_service_times_out(run: Run) -> None:
    async def silent(path: str, body: bytes, writer: asyncio.StreamWriter) -> bool:
        await asyncio.sleep(2)
        return False

    async def main() -> None:
        async with _upstream(silent, timeouts=SHORT_READ) as (_, client):
            with pytest.raises(ReadTimedOut):
                await client.send("GET", "/", [], b"")

    run(main())


def test_a_service_silent_mid_answer_times_out(run: Run) -> None:
    async def stalls(path: str, body: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhalf")
        await asyncio.sleep(2)
        return False

    async def main() -> None:
        async with _upstream(stalls, timeouts=SHORT_READ) as (_, client):
            response = await client.send("GET", "/", [], b"")
            with pytest.raises(ReadTimedOut):
                await response.read()
            await response.aclose()

    run(main())


def test_a_service_that_hangs_up_without_answering_is_a_broken_connection(run: Run) -> None:
    async def hang_up(path: str, body: bytes, writer: asyncio.StreamWriter) -> bool:
        return False

    async def main() -> None:
        async with _upstream(hang_up) as (_, client):
            with pytest.raises(ConnectionBroken):
                await client.send("GET", "/", [], b"")

    run(main())


def test_an_answer_cut_short_is_a_broken_connection(run: Run) -> None:
    async def cut(path: str, body: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhalf")
        return False

    async def main() -> None:
        async with _upstream(cut) as (_, client):
            response = await client.send("GET", "/", [], b"")
            with pytest.raises(ConnectionBroken):
                await response.read()
            await response.aclose()

    run(main())


def test_a_malformed_answer_is_a_broken_connection(run: Run) -> None:
    async def garbage(path: str, body: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"NOT HTTP AT ALL\r\n\r\n")
        return True

    async def main() -> None:
        async with _upstream(garbage) as (_, client):
            with pytest.raises(ConnectionBroken):
                await client.send("GET", "/", [], b"")

    run(main())


def test_nothing_listening_is_a_connect_failure(run: Run) -> None:
    async def main() -> None:
        async with _client("http://127.0.0.1:9", max_connections=1) as client:
            with pytest.raises(ConnectFailed):
                await client.send("GET", "/", [], b"")
            with pytest.raises(ConnectFailed):  # the failed attempt gave its slot back
                await client.send("GET", "/", [], b"")

    run(main())


def test_a_full_pool_is_a_pool_timeout(run: Run) -> None:
    async def main() -> None:
        async with _upstream(_ok, max_connections=1) as (_, client):
            held = await client.send("GET", "/", [], b"")
            with pytest.raises(PoolTimedOut):
                await client.send("GET", "/", [], b"")
            await held.read()
            await held.aclose()
            assert (await _get(client, "/"))[0] == 200

    run(main())
