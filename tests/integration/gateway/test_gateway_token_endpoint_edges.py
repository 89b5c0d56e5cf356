"""``/oauth/token`` at its edges, over a real database: failures limited per client id and
per address (the address from X-Forwarded-For only behind a trusted proxy), and a bounded
number of secrets hashed at once (503 + Retry-After beyond), holding no database
connection while a request waits for its turn."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from services.gateway.app import create_app
from tests.integration.gateway.conftest import (
    ADMIN_SECRET,
    MakeSettings,
    bearer,
    register,
    running,
    token,
)

PROBLEM = "application/problem+json"


def form(client_id: str, secret: str) -> dict[str, str]:
    return {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}


async def new_client(client: httpx.AsyncClient) -> dict[str, Any]:
    admin = bearer(await token(client, "admin", ADMIN_SECRET))
    return await register(client, admin=admin)


async def test_failures_for_one_client_id_are_limited_even_from_many_addresses(
    make_settings: MakeSettings,
):
    settings = make_settings(
        token_failure_burst_per_client=3,
        token_failures_per_client_per_minute=3,
        trusted_proxies=["127.0.0.1"],  # the test client's address: it acts as our proxy
    )
    async with running(create_app(settings)) as client:
        victim = await new_client(client)
        for n in range(3):
            wrong = await client.post(
                "/oauth/token",
                data=form(victim["client_id"], "wrong"),
                headers={"X-Forwarded-For": f"203.0.113.{n}"},
            )
            assert wrong.status_code == 401
        limited = await client.post(
            "/oauth/token",
            data=form(victim["client_id"], "wrong"),
            headers={"X-Forwarded-For": "203.0.113.200"},
        )
        assert limited.status_code == 429
        assert limited.headers["content-type"] == PROBLEM
        assert limited.json()["code"] == "too-many-failures"
        assert limited.json()["error"] == "invalid_client"
        assert 1 <= int(limited.headers["retry-after"]) <= 20
        # While the guessing goes on, the right secret waits too (a throttle: see README).
        right = await client.post(
            "/oauth/token", data=form(victim["client_id"], victim["client_secret"])
        )
        assert right.status_code == 429
        # Other clients are untouched.
        other = await new_client(client)
        assert (
            await client.post("/oauth/token", data=form(other["client_id"], other["client_secret"]))
        ).status_code == 200


async def test_failures_from_one_address_are_limited_whatever_the_client_ids(
    make_settings: MakeSettings,
):
    settings = make_settings(
        token_failure_burst_per_address=4, token_failures_per_address_per_minute=4
    )
    async with running(create_app(settings)) as client:
        statuses = [
            (await client.post("/oauth/token", data=form(f"guess-{n}", "wrong"))).status_code
            for n in range(6)
        ]
        assert statuses == [401, 401, 401, 401, 429, 429]


async def test_x_forwarded_for_counts_only_from_a_trusted_proxy(make_settings: MakeSettings):
    """The same requests, each claiming another address: believed behind a trusted proxy
    (each address has its own failure budget), ignored otherwise (one shared budget)."""

    async def statuses(trusted: list[str]) -> list[int]:
        settings = make_settings(
            token_failure_burst_per_address=2,
            token_failures_per_address_per_minute=2,
            trusted_proxies=trusted,
        )
        async with running(create_app(settings)) as client:
            return [
                (
                    await client.post(
                        "/oauth/token",
                        data=form(f"nobody-{n}", "wrong"),
                        headers={"X-Forwarded-For": f"198.51.100.{n}"},
                    )
                ).status_code
                for n in range(4)
            ]

    assert await statuses([]) == [401, 401, 429, 429]
    assert await statuses(["127.0.0.0/8"]) == [401, 401, 401, 401]


async def test_too_many_secrets_to_check_at_once_is_a_503_with_retry_after(
    make_settings: MakeSettings,
):
    settings = make_settings(
        # A real cost, so that the hashes overlap.
        argon2_time_cost=2,
        argon2_memory_kib=32_768,
        argon2_max_concurrent=1,
        argon2_max_waiting=0,
    )
    app = create_app(settings)
    async with running(app) as client:
        known = await new_client(client)
        pool = app.state.engine.pool
        responses = await asyncio.gather(
            *(
                client.post("/oauth/token", data=form(known["client_id"], known["client_secret"]))
                for _ in range(6)
            )
        )
        codes = sorted(r.status_code for r in responses)
        assert 200 in codes and 503 in codes, codes
        assert set(codes) <= {200, 503}
        busy = next(r for r in responses if r.status_code == 503)
        assert busy.headers["content-type"] == PROBLEM
        assert busy.json()["code"] == "token-endpoint-busy"
        assert busy.json()["error"] == "temporarily_unavailable"
        assert int(busy.headers["retry-after"]) >= 1
        assert app.state.secret_hasher.peak_running == 1
        assert pool.checkedout() == 0
        admin = bearer(await token(client, "admin", ADMIN_SECRET))
        metrics = (await client.get("/metrics", headers=admin)).text
        assert "proxima_gateway_argon2_refused_total" in metrics
