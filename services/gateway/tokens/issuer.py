"""Signing access tokens: short-lived JWTs carrying what every service checks again."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt

from services.gateway.tokens.keys import KeyRing
from shared.auth import AUDIENCE, ISSUER, TENANT_KINDS


@dataclass(frozen=True)
class Grant:
    """What a token is about to say about its holder."""

    client_id: str
    role: str
    scopes: tuple[str, ...]
    tenants: dict[str, list[str]]
    generation: int = 0
    """The client's authority generation when the grant was read (claim ``cgen``)."""


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int
    scope: str
    kid: str


def issue_token(
    ring: KeyRing, grant: Grant, *, ttl_s: int, now: float | None = None
) -> IssuedToken:
    issued_at = int(now if now is not None else time.time())
    key = ring.signing_key
    scope = " ".join(grant.scopes)
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": grant.client_id,
        "role": grant.role,
        "scope": scope,
        "tenants": {kind: list(grant.tenants.get(kind, [])) for kind in TENANT_KINDS},
        "iat": issued_at,
        "nbf": issued_at,
        "exp": issued_at + ttl_s,
        "jti": uuid.uuid4().hex,
        "cgen": grant.generation,
    }
    token = jwt.encode(
        claims, key.private_key, algorithm=key.algorithm, headers={"kid": key.kid, "typ": "at+jwt"}
    )
    return IssuedToken(access_token=token, expires_in=ttl_s, scope=scope, kid=key.kid)
