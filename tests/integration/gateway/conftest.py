"""A real gateway over a real PostgreSQL: one migrated database per test module, the app's
lifespan run for real (bootstrap admin, event runtime on the embedded bus, stream hub),
and an httpx client speaking ASGI to it."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from services.gateway.app import create_app
from services.gateway.settings import GatewaySettings
from tests.support.ports import free_port

ADMIN_SECRET = "integration-admin-secret-0123456789"
MakeSettings = Callable[..., GatewaySettings]


@pytest.fixture(scope="module")
def gateway_databases(migrated_database: Callable[[str], str], new_database: Callable[[str], str]):
    return migrated_database("gateway"), new_database("events")


@pytest.fixture
def make_settings(gateway_databases: tuple[str, str], tmp_path: Path) -> MakeSettings:
    database_url, events_url = gateway_databases

    def make(**overrides: Any) -> GatewaySettings:
        values: dict[str, Any] = {
            "env": "test",
            "database_url": database_url,
            "events_database_url": events_url,
            "event_bus": "embedded",
            "signing_keys_dir": str(tmp_path / "keys"),
            "bootstrap_admin_secret": ADMIN_SECRET,
            # Cheap hashes keep the suite fast; production uses the RFC 9106 profile.
            "argon2_time_cost": 1,
            "argon2_memory_kib": 1024,
            "argon2_parallelism": 1,
            "anonymous_rate_limit_per_minute": 100_000,
            "anonymous_rate_limit_burst": 10_000,
            "rate_limit_per_minute": 100_000,
            "rate_limit_burst": 10_000,
            "ledger_url": "http://127.0.0.1:9",
            "funding_url": "http://127.0.0.1:9",
            "diagnostics_url": "http://127.0.0.1:9",
            "log_json": False,
            "log_level": "WARNING",
            "relay_poll_interval_s": 0.2,
            "stream_poll_interval_s": 0.5,
        }
        values.update(overrides)
        return GatewaySettings(**values)

    return make


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan started, and a client that talks to it in-process."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            yield client


@pytest.fixture
async def gateway(make_settings: MakeSettings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings())
    async with running(app) as client:
        client.app = app  # type: ignore[attr-defined]
        yield client


async def token(
    client: httpx.AsyncClient, client_id: str, secret: str, *, scope: str | None = None
) -> str:
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    if scope is not None:
        form["scope"] = scope
    response = await client.post("/oauth/token", data=form)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


async def admin_headers(client: httpx.AsyncClient) -> dict[str, str]:
    return bearer(await token(client, "admin", ADMIN_SECRET))


def bearer(access_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token}"}


def basic(client_id: str, secret: str) -> dict[str, str]:
    raw = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


_counter: Iterator[int] = iter(range(1, 1_000_000))


def unique_id(prefix: str) -> str:
    return f"{prefix}-{next(_counter)}"


async def register(
    client: httpx.AsyncClient, *, admin: dict[str, str], **overrides: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "client_id": unique_id("client"),
        "name": "Partner application",
        "role": "partner_app",
        "scopes": ["ledger:read"],
        "tenants": {"currencies": ["MESURE"], "territories": ["38185"]},
    }
    body.update(overrides)
    response = await client.post("/admin/clients", json=body, headers=admin)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


@contextmanager
def serve(app: Any, *, lifespan: str = "off", port: int | None = None) -> Iterator[str]:
    """A real uvicorn serving ``app`` in a thread (on a free port unless given); yields its
    base URL and stops it on exit."""
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port or free_port(),
        log_level="warning",
        lifespan=lifespan,
        access_log=False,
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("test upstream did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{config.port}"
    finally:
        server.should_exit = True
        thread.join(10)
