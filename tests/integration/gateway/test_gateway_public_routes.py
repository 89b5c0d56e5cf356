"""The allowlist of public reads through the real gateway to a real upstream: a listed GET
needs no token and never carries one to the service; a write to the same path, or any
other path, still needs a token; anonymous reads share the per-address rate limit."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from services.gateway.app import create_app
from tests.integration.gateway.conftest import MakeSettings, running, serve
from tests.integration.gateway.upstream_app import calls, echo_app


@pytest.fixture(scope="module")
def upstream_url() -> Iterator[str]:
    with serve(echo_app()) as url:
        yield url


@pytest.fixture
async def gateway(
    make_settings: MakeSettings, upstream_url: str
) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(
        ledger_url=upstream_url,
        funding_url=upstream_url,
        diagnostics_url=upstream_url,
        anonymous_rate_limit_per_minute=6,
        anonymous_rate_limit_burst=4,
    )
    async with running(create_app(settings)) as client:
        yield client


async def test_a_listed_read_needs_no_token_and_carries_none(gateway: httpx.AsyncClient) -> None:
    before = calls["public"]
    plain = await gateway.get("/api/ledger/public/directory")
    assert plain.status_code == 200, plain.text
    forged = await gateway.get(
        "/api/ledger/public/directory", headers={"Authorization": "Bearer forged.token.here"}
    )
    assert forged.status_code == 200, forged.text
    assert "authorization" not in forged.json()["headers"]
    assert calls["public"] == before + 2


async def test_writes_and_unlisted_paths_still_need_a_token(gateway: httpx.AsyncClient) -> None:
    before = calls["public"]
    for method, path in (
        ("POST", "/api/ledger/public/directory"),
        ("GET", "/api/funding/public/directory"),  # listed for the ledger only
        ("GET", "/api/ledger/public/directory/extra"),
        ("GET", "/api/ledger/echo/public/directory"),
    ):
        answer = await gateway.request(method, path)
        assert answer.status_code == 401, (method, path, answer.text)
    assert calls["public"] == before, "nothing unlisted reached the service"


async def test_anonymous_public_reads_are_rate_limited_per_address(
    gateway: httpx.AsyncClient,
) -> None:
    statuses = [(await gateway.get("/api/ledger/public/directory")).status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 200, 429]
