"""The live stream's edges, on a real uvicorn: a stream ends when its token expires or its
client is revoked, a client has a bounded number of streams open, and a client that reads
slowly (or not at all) never keeps a pooled database connection."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import jwt
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from services.gateway.app import create_app
from services.gateway.settings import GatewaySettings
from shared.auth import AUDIENCE, ISSUER
from tests.integration.gateway.conftest import ADMIN_SECRET, bearer, register, serve

MAX_STREAMS = 2


@pytest.fixture(scope="module")
def settings(gateway_databases: tuple[str, str], tmp_path_factory) -> GatewaySettings:
    database_url, events_url = gateway_databases
    return GatewaySettings(
        env="test",
        database_url=database_url,
        events_database_url=events_url,
        signing_keys_dir=str(tmp_path_factory.mktemp("keys")),
        bootstrap_admin_secret=ADMIN_SECRET,
        argon2_time_cost=1,
        argon2_memory_kib=1024,
        argon2_parallelism=1,
        anonymous_rate_limit_burst=10_000,
        rate_limit_burst=10_000,
        log_json=False,
        log_level="WARNING",
        relay_poll_interval_s=0.2,
        stream_poll_interval_s=0.2,
        stream_heartbeat_s=1,
        stream_max_connections_per_client=MAX_STREAMS,
        stream_auth_recheck_s=0.5,
    )


@pytest.fixture(scope="module")
def app(settings: GatewaySettings) -> FastAPI:
    return create_app(settings)


@pytest.fixture(scope="module")
def gateway_url(app: FastAPI) -> Iterator[str]:
    with serve(app, lifespan="on") as url:
        yield url


@pytest.fixture
async def http(gateway_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=gateway_url, timeout=30) as client:
        yield client


async def access(http: httpx.AsyncClient, client_id: str, secret: str) -> str:
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    response = await http.post("/oauth/token", data=form)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


async def dashboard_client(http: httpx.AsyncClient) -> dict[str, Any]:
    admin = bearer(await access(http, "admin", ADMIN_SECRET))
    return await register(
        http,
        admin=admin,
        role="dashboard",
        scopes=["dashboard:read"],
        tenants={"territories": ["*"], "currencies": ["*"], "programmes": ["*"]},
    )


def short_lived(app: FastAPI, client_id: str, *, ttl_s: int) -> str:
    """A token of ``client_id`` signed by the gateway's own key, expiring in ``ttl_s``
    (the token endpoint issues 30 s at the least)."""
    key = app.state.key_ring.signing_key
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": client_id,
        "role": "dashboard",
        "scope": "dashboard:read",
        "tenants": {"territories": ["*"], "currencies": ["*"], "programmes": ["*"]},
        "iat": now,
        "exp": now + ttl_s,
        "cgen": 0,
    }
    return jwt.encode(claims, key.private_key, algorithm=key.algorithm, headers={"kid": key.kid})


async def events_until_closed(response: httpx.Response, timeout: float) -> list[dict[str, str]]:
    """Every SSE event (name and data) until the server ends the response."""
    events: list[dict[str, str]] = []
    fields: dict[str, str] = {}

    async def collect() -> None:
        async for line in response.aiter_lines():
            if line == "":
                if fields:
                    events.append({"event": fields.get("event", "message"), **fields})
                fields.clear()
            elif not line.startswith(":"):
                name, _, value = line.partition(":")
                fields[name] = value.removeprefix(" ")

    await asyncio.wait_for(collect(), timeout)
    return events


async def test_a_stream_opened_with_a_short_lived_token_is_closed_at_its_expiry(
    http: httpx.AsyncClient, app: FastAPI
):
    client = await dashboard_client(http)
    token = short_lived(app, client["client_id"], ttl_s=3)
    expires = jwt.decode(token, options={"verify_signature": False})["exp"]
    async with http.stream("GET", "/api/stream", params={"access_token": token}) as response:
        assert response.status_code == 200
        events = await events_until_closed(response, timeout=20)
    ended = time.time()
    assert events[0]["event"] == "hello"
    assert events[-1]["event"] == "closed"
    assert json.loads(events[-1]["data"]) == {"reason": "token-expired"}
    assert ended >= expires  # closed by the server at expiry, not before
    assert app.state.stream_hub.per_client.get(client["client_id"]) is None


async def test_a_stream_is_closed_when_its_client_is_revoked(http: httpx.AsyncClient):
    client = await dashboard_client(http)
    token = await access(http, client["client_id"], client["client_secret"])
    admin = bearer(await access(http, "admin", ADMIN_SECRET))
    async with http.stream("GET", "/api/stream", params={"access_token": token}) as response:
        assert response.status_code == 200
        revoked = await http.post(
            f"/admin/clients/{client['client_id']}/revoke", json={"reason": "test"}, headers=admin
        )
        assert revoked.status_code == 200
        events = await events_until_closed(response, timeout=20)
    assert json.loads(events[-1]["data"]) == {"reason": "token-revoked"}


async def test_a_client_may_open_only_so_many_streams(http: httpx.AsyncClient):
    client = await dashboard_client(http)
    token = await access(http, client["client_id"], client["client_secret"])
    other = await dashboard_client(http)
    other_token = await access(http, other["client_id"], other["client_secret"])
    params = {"access_token": token}
    async with http.stream("GET", "/api/stream", params=params) as first:
        async with http.stream("GET", "/api/stream", params=params) as second:
            assert first.status_code == second.status_code == 200
            refused = await http.get("/api/stream", params=params)
            assert refused.status_code == 429
            assert refused.headers["content-type"] == "application/problem+json"
            assert refused.json()["code"] == "too-many-streams"
            assert int(refused.headers["Retry-After"]) > 0
            # Another client is not affected.
            async with http.stream(
                "GET", "/api/stream", params={"access_token": other_token}
            ) as theirs:
                assert theirs.status_code == 200
    # Closed streams free their places (the server notices the disconnection).
    deadline = time.monotonic() + 10
    while True:
        async with http.stream("GET", "/api/stream", params=params) as again:
            if again.status_code == 200:
                break
        assert time.monotonic() < deadline, "closed streams never freed their places"
        await asyncio.sleep(0.2)


async def test_a_slow_reader_holds_no_pooled_database_connection(
    http: httpx.AsyncClient, app: FastAPI, settings: GatewaySettings
):
    """Resuming replays rows from the table page by page; a client that stops reading
    blocks the server's writes, and no connection may be held meanwhile."""
    rows, pad = 6000, "x" * 2000  # about 12 MB: more than the sockets buffer
    engine = create_async_engine(settings.database_url)
    try:
        async with engine.begin() as conn:
            before = (
                await conn.execute(text("SELECT COALESCE(max(position), 0) FROM stream_events"))
            ).scalar_one()
            await conn.execute(
                text(
                    "INSERT INTO stream_events (event_type, event_key, occurred_at, data)"
                    " SELECT 'proxima.tests.padding.v1', 'pad-' || g, now(),"
                    " jsonb_build_object('pad', CAST(:pad AS text))"
                    " FROM generate_series(1, :rows) AS g"
                ),
                {"pad": pad, "rows": rows},
            )
            latest = (
                await conn.execute(text("SELECT max(position) FROM stream_events"))
            ).scalar_one()
    finally:
        await engine.dispose()
    hub = app.state.stream_hub
    deadline = time.monotonic() + 20
    while hub.last_position < latest:  # the rows are dispatched before we subscribe
        assert time.monotonic() < deadline
        await asyncio.sleep(0.1)

    client = await dashboard_client(http)
    token = await access(http, client["client_id"], client["client_secret"])
    pool = app.state.engine.pool
    async with http.stream(
        "GET", "/api/stream", params={"access_token": token, "since": before}
    ) as response:
        assert response.status_code == 200
        lines = response.aiter_lines()
        ids = 0
        for _ in range(10):  # a few lines, then the client stops reading
            ids += (await anext(lines)).startswith("id:")
        await asyncio.sleep(2)  # the server fills the socket buffers and waits
        samples = []
        for _ in range(20):
            samples.append(pool.checkedout())
            await asyncio.sleep(0.05)
        # Background tasks (outbox relay, census) check connections out for a moment;
        # a replay holding one would show in every sample.
        assert min(samples) == 0, samples
        async with asyncio.timeout(60):
            async for line in lines:
                ids += line.startswith("id:")
                if ids == rows:
                    break
    assert ids == rows  # and the client, reading again, gets every row
