"""The admin API of the client registry: create, list, rotate, revoke, and who may use it."""

from __future__ import annotations

import httpx
from sqlalchemy import text

from services.gateway.app import create_app
from tests.integration.gateway.conftest import (
    ADMIN_SECRET,
    MakeSettings,
    admin_headers,
    bearer,
    register,
    running,
    token,
    unique_id,
)

PROBLEM = "application/problem+json"


def _form(client_id: str, secret: str) -> dict[str, str]:
    return {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}


async def test_created_client_is_returned_with_its_secret_once(gateway: httpx.AsyncClient):
    admin = await admin_headers(gateway)
    created = await register(gateway, admin=admin, role="dashboard", scopes=["dashboard:read"])
    assert len(created["client_secret"]) >= 40
    fetched = await gateway.get(f"/admin/clients/{created['client_id']}", headers=admin)
    assert fetched.status_code == 200
    assert "client_secret" not in fetched.json()
    assert fetched.json()["scopes"] == ["dashboard:read"]


async def test_secrets_are_stored_as_argon2id_hashes_only(gateway: httpx.AsyncClient):
    admin = await admin_headers(gateway)
    created = await register(gateway, admin=admin)
    engine = gateway.app.state.engine  # type: ignore[attr-defined]
    async with engine.connect() as conn:
        hashes = (
            (
                await conn.execute(
                    text("SELECT secret_hash FROM client_secrets WHERE client_id = :c"),
                    {"c": created["client_id"]},
                )
            )
            .scalars()
            .all()
        )
    assert len(hashes) == 1
    assert hashes[0].startswith("$argon2id$")
    assert created["client_secret"] not in hashes[0]


async def test_a_duplicate_client_id_is_a_409_conflict(gateway: httpx.AsyncClient):
    admin = await admin_headers(gateway)
    created = await register(gateway, admin=admin)
    again = await gateway.post(
        "/admin/clients",
        json={
            "client_id": created["client_id"],
            "name": "x",
            "role": "partner_app",
            "scopes": ["ledger:read"],
        },
        headers=admin,
    )
    assert again.status_code == 409
    assert again.headers["content-type"] == PROBLEM
    assert again.json()["code"] == "client-exists"


async def test_invalid_client_definitions_are_422_problems(gateway: httpx.AsyncClient):
    admin = await admin_headers(gateway)
    for body in (
        {"client_id": "UPPER", "name": "x", "role": "partner_app", "scopes": ["ledger:read"]},
        {"client_id": "ok-id", "name": "x", "role": "emperor", "scopes": ["ledger:read"]},
        {"client_id": "ok-id", "name": "x", "role": "partner_app", "scopes": []},
        {
            "client_id": "ok-id",
            "name": "x",
            "role": "partner_app",
            "scopes": ["ledger:read"],
            "tenants": {"planets": ["mars"]},
        },
    ):
        response = await gateway.post("/admin/clients", json=body, headers=admin)
        assert response.status_code == 422, body
        assert response.headers["content-type"] == PROBLEM


async def test_listing_is_paginated_by_cursor_without_gaps_or_repeats(gateway: httpx.AsyncClient):
    admin = await admin_headers(gateway)
    prefix = unique_id("page")
    for n in range(5):
        await register(gateway, admin=admin, client_id=f"{prefix}-{n}", role="expert")
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, "role": "expert"} | ({"cursor": cursor} if cursor else {})
        page = (await gateway.get("/admin/clients", params=params, headers=admin)).json()
        seen += [c["client_id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    mine = [c for c in seen if c.startswith(prefix)]
    assert mine == [f"{prefix}-{n}" for n in range(5)]
    assert len(seen) == len(set(seen))


async def test_rotation_keeps_the_old_secret_valid_during_the_grace_period(
    gateway: httpx.AsyncClient,
):
    admin = await admin_headers(gateway)
    created = await register(gateway, admin=admin)
    cid, old = created["client_id"], created["client_secret"]
    rotated = await gateway.post(
        f"/admin/clients/{cid}/rotate-secret", json={"grace_period_s": 3600}, headers=admin
    )
    assert rotated.status_code == 200
    new = rotated.json()["client_secret"]
    assert new != old
    for secret in (old, new):
        assert (await gateway.post("/oauth/token", data=_form(cid, secret))).status_code == 200


async def test_rotation_without_grace_retires_the_old_secret_at_once(gateway: httpx.AsyncClient):
    admin = await admin_headers(gateway)
    created = await register(gateway, admin=admin)
    cid, old = created["client_id"], created["client_secret"]
    rotated = await gateway.post(
        f"/admin/clients/{cid}/rotate-secret", json={"grace_period_s": 0}, headers=admin
    )
    new = rotated.json()["client_secret"]
    assert (await gateway.post("/oauth/token", data=_form(cid, old))).status_code == 401
    assert (await gateway.post("/oauth/token", data=_form(cid, new))).status_code == 200


async def test_a_revoked_client_gets_no_token_and_its_tokens_are_refused(
    gateway: httpx.AsyncClient,
):
    admin = await admin_headers(gateway)
    created = await register(gateway, admin=admin, role="dashboard", scopes=["dashboard:read"])
    cid, secret = created["client_id"], created["client_secret"]
    issued = await token(gateway, cid, secret)
    assert (await gateway.get("/api/dashboard/summary", headers=bearer(issued))).status_code == 200
    revoked = await gateway.post(
        f"/admin/clients/{cid}/revoke", json={"reason": "device lost"}, headers=admin
    )
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    refused = await gateway.get("/api/dashboard/summary", headers=bearer(issued))
    assert refused.status_code == 401
    assert refused.headers["content-type"] == PROBLEM
    assert (await gateway.post("/oauth/token", data=_form(cid, secret))).status_code == 401
    listed = await gateway.get("/admin/clients", params={"limit": 200}, headers=admin)
    assert cid not in {c["client_id"] for c in listed.json()["items"]}


async def test_revocation_reaches_a_second_gateway_replica(
    gateway: httpx.AsyncClient, make_settings: MakeSettings
):
    admin = await admin_headers(gateway)
    created = await register(gateway, admin=admin, role="dashboard", scopes=["dashboard:read"])
    issued = await token(gateway, created["client_id"], created["client_secret"])
    replica = create_app(make_settings(client_policy_refresh_s=0.1))
    async with running(replica) as other:
        before = await other.get("/api/dashboard/summary", headers=bearer(issued))
        assert before.status_code == 200
        await gateway.post(
            f"/admin/clients/{created['client_id']}/revoke", json={"reason": "x"}, headers=admin
        )
        await replica.state.client_policy.refresh(replica.state.session_factory)
        after = await other.get("/api/dashboard/summary", headers=bearer(issued))
        assert after.status_code == 401


async def test_scope_and_tenant_changes_apply_to_new_tokens(gateway: httpx.AsyncClient):
    admin = await admin_headers(gateway)
    created = await register(gateway, admin=admin)
    patched = await gateway.patch(
        f"/admin/clients/{created['client_id']}",
        json={"scopes": ["ledger:read", "ledger:post"], "tenants": {"currencies": ["ECO"]}},
        headers=admin,
    )
    assert patched.status_code == 200
    assert patched.json()["tenants"]["currencies"] == ["ECO"]
    assert patched.json()["tenants"]["territories"] == []


async def test_admin_endpoints_require_the_admin_scope(gateway: httpx.AsyncClient):
    admin = await admin_headers(gateway)
    created = await register(gateway, admin=admin, scopes=["ledger:read", "ledger:post"])
    partner = bearer(await token(gateway, created["client_id"], created["client_secret"]))
    assert (await gateway.get("/admin/clients", headers=partner)).status_code == 403
    assert (await gateway.get("/admin/clients")).status_code == 401
    response = await gateway.post(
        f"/admin/clients/{created['client_id']}/rotate-secret", json={}, headers=partner
    )
    assert response.status_code == 403
    assert response.headers["content-type"] == PROBLEM


async def test_unknown_client_is_a_404_problem(gateway: httpx.AsyncClient):
    admin = await admin_headers(gateway)
    response = await gateway.post(
        "/admin/clients/nobody-here/revoke", json={"reason": "x"}, headers=admin
    )
    assert response.status_code == 404
    assert response.json()["code"] == "client-not-found"


async def test_the_bootstrap_admin_secret_is_applied_once(
    gateway: httpx.AsyncClient, make_settings: MakeSettings
):
    """Created with the environment's secret on the first start, never re-applied: an
    administrator who rotated it through the API is not handed the old one back at the
    next restart (nor a new one by whoever edits the environment)."""
    admin = await admin_headers(gateway)
    rotated = await gateway.post(
        "/admin/clients/admin/rotate-secret", json={"grace_period_s": 0}, headers=admin
    )
    assert rotated.status_code == 200, rotated.text
    new_secret = rotated.json()["client_secret"]

    for env_secret in (ADMIN_SECRET, "another-admin-secret-in-the-environment"):
        restarted = create_app(make_settings(bootstrap_admin_secret=env_secret))
        async with running(restarted) as again:
            refused = await again.post("/oauth/token", data=_form("admin", env_secret))
            assert refused.status_code == 401, refused.text
            kept = await again.post("/oauth/token", data=_form("admin", new_secret))
            assert kept.status_code == 200, kept.text
