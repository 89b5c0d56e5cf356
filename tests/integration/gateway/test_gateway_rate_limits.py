"""Per-client token buckets (429 + Retry-After), per IP for anonymous callers."""

from __future__ import annotations

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


def _tight(make_settings: MakeSettings) -> object:
    return make_settings(
        rate_limit_per_minute=6,  # refills one request every 10 s
        rate_limit_burst=3,
        anonymous_rate_limit_per_minute=6,
        anonymous_rate_limit_burst=4,
    )


async def test_a_client_over_its_burst_gets_429_with_retry_after(make_settings: MakeSettings):
    app = create_app(_tight(make_settings))  # type: ignore[arg-type]
    async with running(app) as client:
        admin = bearer(await token(client, "admin", ADMIN_SECRET))
        statuses = [
            (await client.get("/api/dashboard/summary", headers=admin)).status_code
            for _ in range(3)
        ]
        assert statuses == [200, 200, 200]
        limited = await client.get("/api/dashboard/summary", headers=admin)
        assert limited.status_code == 429
        assert limited.headers["content-type"] == PROBLEM
        assert limited.json()["code"] == "rate-limited"
        assert 1 <= int(limited.headers["retry-after"]) <= 10
        assert limited.headers["x-request-id"]


async def test_one_client_exhausting_its_bucket_does_not_limit_another(
    make_settings: MakeSettings,
):
    app = create_app(_tight(make_settings))  # type: ignore[arg-type]
    async with running(app) as client:
        admin = bearer(await token(client, "admin", ADMIN_SECRET))
        other = await register(client, admin=admin, role="dashboard", scopes=["dashboard:read"])
        viewer = bearer(await token(client, other["client_id"], other["client_secret"]))
        while (await client.get("/api/dashboard/summary", headers=admin)).status_code != 429:
            pass
        response = await client.get("/api/dashboard/summary", headers=viewer)
        assert response.status_code == 200
        assert response.headers["ratelimit-limit"] == "3"
        assert response.headers["ratelimit-remaining"] == "2"


async def test_a_client_specific_limit_overrides_the_default(make_settings: MakeSettings):
    app = create_app(_tight(make_settings))  # type: ignore[arg-type]
    async with running(app) as client:
        admin = bearer(await token(client, "admin", ADMIN_SECRET))
        generous = await register(
            client,
            admin=admin,
            role="dashboard",
            scopes=["dashboard:read"],
            rate_limit_per_minute=600,
        )
        viewer = bearer(await token(client, generous["client_id"], generous["client_secret"]))
        statuses = {
            (await client.get("/api/dashboard/summary", headers=viewer)).status_code
            for _ in range(20)
        }
        assert statuses == {200}


async def test_anonymous_callers_are_limited_per_ip(make_settings: MakeSettings):
    app = create_app(_tight(make_settings))  # type: ignore[arg-type]
    wrong = {"grant_type": "client_credentials", "client_id": "admin", "client_secret": "guess"}
    async with running(app):
        first_ip = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=("203.0.113.7", 4000)),
            base_url="http://gateway",
        )
        second_ip = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=("203.0.113.8", 4000)),
            base_url="http://gateway",
        )
        async with first_ip, second_ip:
            statuses = [
                (await first_ip.post("/oauth/token", data=wrong)).status_code for _ in range(5)
            ]
            assert statuses == [401, 401, 401, 401, 429]
            assert (await second_ip.post("/oauth/token", data=wrong)).status_code == 401


async def test_health_endpoints_are_never_rate_limited(make_settings: MakeSettings):
    app = create_app(_tight(make_settings))  # type: ignore[arg-type]
    async with running(app) as client:
        statuses = {(await client.get("/healthz")).status_code for _ in range(10)}
        assert statuses == {200}


async def test_two_live_replicas_each_enforce_half_of_a_limit(make_settings: MakeSettings):
    """Limits hold for the gateway as a whole: with two replicas on one database each one
    grants a client half the burst, so the client gets the configured limit, not twice it."""
    # Beats 2 s apart: a replica counts as gone after 6 s, far beyond a loaded CI pause.
    settings = make_settings(rate_limit_per_minute=6, rate_limit_burst=4, replica_heartbeat_s=2.0)
    first, second = create_app(settings), create_app(settings)  # type: ignore[arg-type]
    async with running(first) as one, running(second) as two:
        await first.state.replica_census.beat(first.state.session_factory)
        assert first.state.replica_census.count == 2
        assert second.state.replica_census.count == 2
        admin = bearer(await token(one, "admin", ADMIN_SECRET))
        statuses = [
            (await client.get("/api/dashboard/summary", headers=admin)).status_code
            for client in (one, one, one, two, two, two)
        ]
        assert statuses == [200, 200, 429, 200, 200, 429]
    # A replica that shut down is no longer counted by the others.
    solo = create_app(settings)  # type: ignore[arg-type]
    async with running(solo) as client:
        admin = bearer(await token(client, "admin", ADMIN_SECRET))
        response = await client.get("/api/dashboard/summary", headers=admin)
        assert solo.state.replica_census.count == 1
        assert response.headers["ratelimit-limit"] == "4"
