"""``POST /oauth/token`` and the JWKS: what a partner application meets first."""

from __future__ import annotations

import json

import httpx
import jwt

from shared.auth import AUDIENCE, ISSUER, TokenVerifier
from tests.integration.gateway.conftest import (
    ADMIN_SECRET,
    admin_headers,
    basic,
    register,
    token,
)

PROBLEM = "application/problem+json"


async def _jwks_verifier(client: httpx.AsyncClient) -> TokenVerifier:
    jwks = (await client.get("/.well-known/jwks.json")).json()
    return TokenVerifier(jwks_json=json.dumps(jwks))


async def test_client_secret_post_yields_a_short_lived_es256_token(gateway: httpx.AsyncClient):
    admin = await admin_headers(gateway)
    created = await register(
        gateway,
        admin=admin,
        role="currency_operator",
        scopes=["ledger:post", "ledger:read"],
        tenants={"currencies": ["MESURE"], "territories": ["38185", "38421"]},
    )
    response = await gateway.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": created["client_id"],
            "client_secret": created["client_secret"],
        },
    )
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    header = jwt.get_unverified_header(body["access_token"])
    assert header["alg"] == "ES256"
    keys = (await gateway.get("/.well-known/jwks.json")).json()["keys"]
    assert header["kid"] in {k["kid"] for k in keys}
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["iss"] == ISSUER and claims["aud"] == AUDIENCE
    assert claims["sub"] == created["client_id"]
    assert claims["role"] == "currency_operator"
    assert claims["scope"] == "ledger:post ledger:read"
    assert claims["tenants"]["currencies"] == ["MESURE"]
    assert claims["tenants"]["territories"] == ["38185", "38421"]
    assert claims["exp"] - claims["iat"] == 900


async def test_a_service_verifies_the_token_with_the_published_jwks(gateway: httpx.AsyncClient):
    access = await token(gateway, "admin", ADMIN_SECRET)
    principal = (await _jwks_verifier(gateway)).verify(access)
    assert principal.client_id == "admin" and principal.is_admin


async def test_http_basic_authentication_is_accepted(gateway: httpx.AsyncClient):
    response = await gateway.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers=basic("admin", ADMIN_SECRET),
    )
    assert response.status_code == 200, response.text


async def test_a_requested_scope_subset_narrows_the_token(gateway: httpx.AsyncClient):
    admin = await admin_headers(gateway)
    created = await register(gateway, admin=admin, scopes=["ledger:read", "ledger:post"])
    access = await token(
        gateway, created["client_id"], created["client_secret"], scope="ledger:read"
    )
    assert jwt.decode(access, options={"verify_signature": False})["scope"] == "ledger:read"


async def test_a_scope_not_granted_is_refused_with_invalid_scope(gateway: httpx.AsyncClient):
    admin = await admin_headers(gateway)
    created = await register(gateway, admin=admin, scopes=["ledger:read"])
    response = await gateway.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": created["client_id"],
            "client_secret": created["client_secret"],
            "scope": "ledger:post",
        },
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["error"] == "invalid_scope"


async def test_wrong_secret_and_unknown_client_get_the_same_401(gateway: httpx.AsyncClient):
    wrong = await gateway.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": "admin", "client_secret": "nope"},
    )
    unknown = await gateway.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": "ghost", "client_secret": "nope"},
    )
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["error"] == "invalid_client"
    assert wrong.json()["detail"] == unknown.json()["detail"]


async def test_other_grant_types_are_unsupported(gateway: httpx.AsyncClient):
    response = await gateway.post(
        "/oauth/token", data={"grant_type": "password", "username": "u", "password": "p"}
    )
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


async def test_a_missing_grant_type_is_an_invalid_request(gateway: httpx.AsyncClient):
    response = await gateway.post("/oauth/token", data={"client_id": "admin"})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


async def test_two_authentication_methods_at_once_are_refused(gateway: httpx.AsyncClient):
    response = await gateway.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": "admin", "client_secret": "x"},
        headers=basic("admin", ADMIN_SECRET),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
