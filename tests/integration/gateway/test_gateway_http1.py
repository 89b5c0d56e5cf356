"""The gateway's upstream HTTP/1.1 client against a scripted server on a real socket, on
both event loops it meets (asyncio in tests, uvloop under uvicorn)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import pytest
import uvloop

from services.gateway.traffic.http1 import (
    ConnectFailed,
    ConnectionBroken,
    PoolTimedOut,
    ReadTimedOut,
    Timeouts,
    UpstreamClient,
)
from services.gateway.traffic.proxy import _streamed

Run = Callable[[Coroutine[Any, Any, None]], None]


@pytest.fixture(params=["asyncio", "uvloop"])
def run(request: pytest.FixtureRequest) -> Run:
    return asyncio.run if request.param == "asyncio" else uvloop.run  # type: ignore[return-value]


Script = Callable[[str, bytes, asyncio.StreamWriter], Awaitable[bool]]
"""Answers one request (path, body); returns False to close the connection."""


async def _serve(script: Script) -> tuple[asyncio.Server, list[int]]:
    """A server running ``script`` per request; the list counts accepted connections."""
    accepted: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(1)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
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
    return server, accepted


def _client(server: asyncio.Server, **overrides: Any) -> UpstreamClient:
    port = server.sockets[0].getsockname()[1]
    values: dict[str, Any] = {
        "timeouts": Timeouts(connect_s=1.0, read_s=1.0, pool_s=0.2),
        "max_connections": 4,
        "max_idle": 4,
        "idle_expiry_s": 30.0,
    }
    values.update(overrides)
    return UpstreamClient(f"http://127.0.0.1:{port}", **values)


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
        server, accepted = await _serve(_ok)
        client = _client(server)
        for i in range(5):
            status, body = await _get(client, f"/n/{i}?q=1", b"x" * i)
            assert status == 200
            assert body == f'{{"path": "/n/{i}?q=1", "body": {i}}}'.encode()
        assert len(accepted) == 1
        await client.aclose()
        server.close()

    run(main())


def test_a_connection_idle_past_its_expiry_is_replaced(run: Run) -> None:
    async def main() -> None:
        server, accepted = await _serve(_ok)
        client = _client(server, idle_expiry_s=0.05)
        assert (await _get(client, "/"))[0] == 200
        await asyncio.sleep(0.1)
        assert (await _get(client, "/"))[0] == 200
        assert len(accepted) == 2
        await client.aclose()
        server.close()

    run(main())


def test_repeated_headers_arrive_in_order(run: Run) -> None:
    async def main() -> None:
        server, _ = await _serve(_ok)
        client = _client(server)
        response = await client.send("GET", "/", [(b"x-a", b"1")], b"")
        assert [v for k, v in response.headers if k == b"set-cookie"] == [b"a=1", b"b=2"]
        assert response.header(b"content-type") == b"application/json"
        await response.read()
        await response.aclose()
        await client.aclose()
        server.close()

    run(main())


def test_a_connection_the_service_closed_is_not_reused(run: Run) -> None:
    async def close_after(path: str, body: bytes, writer: asyncio.StreamWriter) -> bool:
        await _ok(path, body, writer)
        return False

    async def main() -> None:
        server, accepted = await _serve(close_after)
        client = _client(server)
        for _ in range(3):
            assert (await _get(client, "/"))[0] == 200
            await asyncio.sleep(0.05)  # the close reaches the client
        assert len(accepted) == 3
        await client.aclose()
        server.close()

    run(main())


def test_connection_close_and_unsized_answers_end_with_the_connection(run: Run) -> None:
    async def until_close(path: str, body: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nall of it")
        return False

    async def main() -> None:
        server, accepted = await _serve(until_close)
        client = _client(server)
        assert await _get(client, "/") == (200, b"all of it")
        assert await _get(client, "/") == (200, b"all of it")
        assert len(accepted) == 2
        await client.aclose()
        server.close()

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
        server, accepted = await _serve(chunked)
        client = _client(server)
        response = await client.send("GET", "/", [], b"")
        assert b"".join([c async for c in response.iter_body()]) == b"hello chunked world"
        await response.aclose()
        assert await _get(client, "/") == (200, b"hello chunked world")
        assert len(accepted) == 1
        await client.aclose()
        server.close()

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
        server, _ = await _serve(big)
        client = _client(server)
        response = await client.send("GET", "/", [], b"")
        received = 0
        async for chunk in response.iter_body():
            received += len(chunk)
            await asyncio.sleep(0)  # a slow reader: the client pauses the socket meanwhile
        await response.aclose()
        assert received == size
        await client.aclose()
        server.close()

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
        server, _ = await _serve(endless)
        client = _client(server, max_connections=1)
        relay = _streamed(await client.send("GET", "/endless", [], b""))
        assert await relay.__anext__() == b"more"
        await relay.aclose()  # what cancelling the caller's response does to the generator
        assert (await _get(client, "/"))[0] == 200  # the only slot is free again
        await client.aclose()
        server.close()

    run(main())


def test_interim_answers_are_skipped(run: Run) -> None:
    async def continue_first(path: str, body: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        return await _ok(path, body, writer)

    async def main() -> None:
        server, _ = await _serve(continue_first)
        client = _client(server)
        assert (await _get(client, "/x"))[0] == 200
        assert (await _get(client, "/y"))[0] == 200
        await client.aclose()
        server.close()

    run(main())


def test_head_answers_end_at_the_headers(run: Run) -> None:
    async def head_then_ok(path: str, body: bytes, writer: asyncio.StreamWriter) -> bool:
        if path == "/head":
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 24\r\n\r\n")
            return True
        return await _ok(path, body, writer)

    async def main() -> None:
        server, _ = await _serve(head_then_ok)
        client = _client(server)
        response = await client.send("HEAD", "/head", [], b"")
        assert response.status_code == 200
        assert await response.read() == b""
        await response.aclose()
        assert (await _get(client, "/"))[0] == 200
        await client.aclose()
        server.close()

    run(main())


def test_a_silent_service_times_out(run: Run) -> None:
    async def silent(path: str, body: bytes, writer: asyncio.StreamWriter) -> bool:
        await asyncio.sleep(2)
        return False

    async def main() -> None:
        server, _ = await _serve(silent)
        client = _client(server, timeouts=Timeouts(connect_s=1.0, read_s=0.2, pool_s=0.2))
        with pytest.raises(ReadTimedOut):
            await client.send("GET", "/", [], b"")
        await client.aclose()
        server.close()

    run(main())


def test_a_service_that_hangs_up_without_answering_is_a_broken_connection(run: Run) -> None:
    async def hang_up(path: str, body: bytes, writer: asyncio.StreamWriter) -> bool:
        return False

    async def main() -> None:
        server, _ = await _serve(hang_up)
        client = _client(server)
        with pytest.raises(ConnectionBroken):
            await client.send("GET", "/", [], b"")
        await client.aclose()
        server.close()

    run(main())


def test_nothing_listening_is_a_connect_failure(run: Run) -> None:
    async def main() -> None:
        client = UpstreamClient(
            "http://127.0.0.1:9",
            timeouts=Timeouts(connect_s=1.0, read_s=1.0, pool_s=0.2),
            max_connections=1,
            max_idle=1,
            idle_expiry_s=30.0,
        )
        with pytest.raises(ConnectFailed):
            await client.send("GET", "/", [], b"")
        with pytest.raises(ConnectFailed):  # the failed attempt gave its slot back
            await client.send("GET", "/", [], b"")

    run(main())


def test_a_full_pool_is_a_pool_timeout(run: Run) -> None:
    async def main() -> None:
        server, _ = await _serve(_ok)
        client = _client(server, max_connections=1)
        held = await client.send("GET", "/", [], b"")
        with pytest.raises(PoolTimedOut):
            await client.send("GET", "/", [], b"")
        await held.aclose()
        assert (await _get(client, "/"))[0] == 200
        await client.aclose()
        server.close()

    run(main())
