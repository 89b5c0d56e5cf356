"""Signed test tokens: a real EC key pair and JWKS, so services verify tokens in tests
exactly as in production (only the issuer is the test instead of the gateway)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from functools import cache

import jwt
from cryptography.hazmat.primitives.asymmetric import ec

from shared.auth import AUDIENCE, ISSUER

KID = "test-key-1"


@cache
def _private_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@cache
def jwks_json() -> str:
    """The JWKS a service under test is configured with (``PROXIMA_JWKS_JSON``)."""
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(_private_key().public_key()))
    jwk.update(kid=KID, use="sig", alg="ES256")
    return json.dumps({"keys": [jwk]})


def mint(
    *,
    scopes: Iterable[str],
    tenants: Mapping[str, Iterable[str]] | None = None,
    client_id: str = "test-client",
    role: str = "test",
    ttl_s: int = 7200,
) -> str:
    """A signed token; the default lifetime outlives a whole run, since module-level headers
    are minted when pytest collects (CI allows 90 minutes)."""
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": client_id,
        "role": role,
        "iat": now,
        "exp": now + ttl_s,
        "scope": " ".join(scopes),
        "tenants": {k: list(v) for k, v in (tenants or {}).items()},
    }
    return jwt.encode(claims, _private_key(), algorithm="ES256", headers={"kid": KID})


def bearer(**kwargs: object) -> dict[str, str]:
    """``Authorization`` header for a token minted with ``mint(**kwargs)``."""
    return {"Authorization": f"Bearer {mint(**kwargs)}"}  # type: ignore[arg-type]
