"""Signing key rotation without downtime: tokens signed by the previous key keep verifying
(at the gateway and at services, through the JWKS) until they expire."""

from __future__ import annotations

import base64
import json
import os
import time
from pathlib import Path

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from services.gateway.app import create_app
from shared.auth import AUDIENCE, ISSUER, TokenVerifier
from tests.integration.gateway.conftest import (
    ADMIN_SECRET,
    MakeSettings,
    bearer,
    running,
    token,
)


async def _service_verifier(client: httpx.AsyncClient) -> TokenVerifier:
    return TokenVerifier(jwks_json=json.dumps((await client.get("/.well-known/jwks.json")).json()))


async def test_rotation_switches_the_signing_key_and_keeps_old_tokens_valid(
    gateway: httpx.AsyncClient,
):
    old_token = await token(gateway, "admin", ADMIN_SECRET)
    old_kid = jwt.get_unverified_header(old_token)["kid"]
    rotated = await gateway.post("/admin/signing-keys/rotate", headers=bearer(old_token))
    assert rotated.status_code == 201
    new_kid = rotated.json()["signing"]["kid"]
    assert new_kid != old_kid
    new_token = await token(gateway, "admin", ADMIN_SECRET)
    assert jwt.get_unverified_header(new_token)["kid"] == new_kid
    published = {k["kid"] for k in (await gateway.get("/.well-known/jwks.json")).json()["keys"]}
    assert {old_kid, new_kid} <= published
    # The gateway itself and a service holding the new JWKS accept both tokens.
    for access in (old_token, new_token):
        assert (await gateway.get("/admin/signing-keys", headers=bearer(access))).status_code == 200
    verifier = await _service_verifier(gateway)
    assert verifier.verify(old_token).client_id == verifier.verify(new_token).client_id == "admin"


async def test_a_key_is_retired_only_once_its_tokens_have_expired(
    make_settings: MakeSettings, tmp_path: Path
):
    settings = make_settings(signing_keys_dir=str(tmp_path / "retire"), token_ttl_s=60)
    app = create_app(settings)
    async with running(app) as client:
        admin = bearer(await token(client, "admin", ADMIN_SECRET))
        first = (await client.post("/admin/signing-keys/rotate", headers=admin)).json()
        assert first["retired"] == []  # the original key signed tokens a moment ago
        # Pretend the second key was created two token lifetimes ago.
        ring = app.state.key_ring
        old = time.time() - 2 * 60 - 120
        for key in ring.keys:
            os.utime(key.path, (old, old))
        ring.refresh(force=True)
        second = (await client.post("/admin/signing-keys/rotate", headers=admin)).json()
        assert len(second["retired"]) == 1
        assert len(ring.keys) == 2


async def test_a_token_signed_by_an_unknown_key_is_refused(gateway: httpx.AsyncClient):
    rogue = ec.generate_private_key(ec.SECP256R1())
    now = int(time.time())
    forged = jwt.encode(
        {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": "admin",
            "scope": "admin",
            "iat": now,
            "exp": now + 60,
        },
        rogue,
        algorithm="ES256",
        headers={"kid": "rogue"},
    )
    response = await gateway.get("/admin/clients", headers=bearer(forged))
    assert response.status_code == 401


async def test_tampered_expired_and_wrong_audience_tokens_are_401(gateway: httpx.AsyncClient):
    good = await token(gateway, "admin", ADMIN_SECRET)
    header, payload, signature = good.split(".")
    claims = jwt.decode(good, options={"verify_signature": False})
    claims["scope"] = "admin ledger:post"
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    tampered = f"{header}.{forged_payload}.{signature}"
    assert (await gateway.get("/admin/clients", headers=bearer(tampered))).status_code == 401

    ring = gateway.app.state.key_ring  # type: ignore[attr-defined]
    key = ring.signing_key
    now = int(time.time())
    base = {"iss": ISSUER, "sub": "admin", "scope": "admin"}
    expired = jwt.encode(
        base | {"aud": AUDIENCE, "iat": now - 120, "exp": now - 60},
        key.private_key,
        algorithm="ES256",
        headers={"kid": key.kid},
    )
    wrong_audience = jwt.encode(
        base | {"aud": "elsewhere", "iat": now, "exp": now + 60},
        key.private_key,
        algorithm="ES256",
        headers={"kid": key.kid},
    )
    for bad in (expired, wrong_audience):
        response = await gateway.get("/admin/clients", headers=bearer(bad))
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"


async def test_a_pem_bundle_file_signs_with_its_first_key(
    make_settings: MakeSettings, tmp_path: Path
):
    def rsa_pem() -> bytes:
        return rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    bundle = tmp_path / "jwt-private-keys.pem"
    bundle.write_bytes(rsa_pem() + rsa_pem())
    app = create_app(make_settings(signing_keys_dir="", jwt_private_keys_file=str(bundle)))
    async with running(app) as client:
        access = await token(client, "admin", ADMIN_SECRET)
        assert jwt.get_unverified_header(access)["alg"] == "RS256"
        keys = (await client.get("/.well-known/jwks.json")).json()["keys"]
        assert len(keys) == 2
        assert jwt.get_unverified_header(access)["kid"] == keys[0]["kid"]
        assert (await _service_verifier(client)).verify(access).client_id == "admin"
        refused = await client.post("/admin/signing-keys/rotate", headers=bearer(access))
        assert refused.status_code == 409


async def test_tokens_of_a_withdrawn_key_are_refused_at_once(gateway: httpx.AsyncClient):
    """A leaked key is deleted: its tokens stop working even if already verified once."""
    ring = gateway.app.state.key_ring  # type: ignore[attr-defined]
    leaked = await token(gateway, "admin", ADMIN_SECRET)
    assert (await gateway.get("/admin/signing-keys", headers=bearer(leaked))).status_code == 200
    old_key = ring.signing_key
    await gateway.post("/admin/signing-keys/rotate", headers=bearer(leaked))
    old_key.path.unlink()
    ring.refresh()
    response = await gateway.get("/admin/signing-keys", headers=bearer(leaked))
    assert response.status_code == 401
