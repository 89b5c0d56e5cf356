"""Token verification, scopes and tenant bindings: used by the gateway AND every service.

No service trusts the network: each verifies the gateway-signed JWT again with the public
keys the gateway publishes (JWKS), and each endpoint declares the scope it needs through
`require_scope`. A test walks every route and fails on any endpoint without one.

Claims: ``sub`` (client id), ``role``, ``scope`` (space-separated, OAuth2 style), and
``tenants``: which currencies, programmes, envelopes and territories the client may touch
(``"*"`` means all of that kind).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

import jwt
from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.problems import Forbidden, Unauthorized

ISSUER = "proxima-gateway"
AUDIENCE = "proxima"
ALGORITHMS = ["ES256", "RS256", "EdDSA"]
ADMIN_SCOPE = "admin"

TenantKind = Literal["currencies", "programmes", "envelopes", "territories"]
TENANT_KINDS: tuple[TenantKind, ...] = ("currencies", "programmes", "envelopes", "territories")


@dataclass(frozen=True)
class Principal:
    client_id: str
    role: str
    scopes: frozenset[str]
    tenants: dict[str, frozenset[str]] = field(default_factory=dict)

    @property
    def is_admin(self) -> bool:
        return ADMIN_SCOPE in self.scopes

    def may_access(self, kind: TenantKind, value: str | None) -> bool:
        if self.is_admin:
            return True
        allowed = self.tenants.get(kind, frozenset())
        return "*" in allowed or (value is not None and value in allowed)

    def ensure_access(self, kind: TenantKind, value: str | None) -> None:
        """Raise 403 unless this client is bound to ``value`` (a currency code, …)."""
        if not self.may_access(kind, value):
            raise Forbidden(f"client {self.client_id!r} is not bound to {kind[:-1]} {value!r}")

    def visible(self, kind: TenantKind) -> frozenset[str] | None:
        """The values of ``kind`` this client may see, or None for all of them (list filters)."""
        if self.is_admin:
            return None
        allowed = self.tenants.get(kind, frozenset())
        return None if "*" in allowed else allowed


class TokenVerifier:
    """Verifies signatures against a JWKS fetched from the gateway (cached; refetched when a
    token names an unknown key id, which is how key rotation reaches services), or against a
    static JWKS document (tests, single-process dev)."""

    def __init__(self, *, jwks_url: str = "", jwks_json: str = "") -> None:
        self._client = (
            jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=300) if jwks_url else None
        )
        self._static = jwt.PyJWKSet.from_dict(json.loads(jwks_json)) if jwks_json else None

    @property
    def may_block(self) -> bool:
        """True when verifying may fetch keys over HTTP (PyJWKClient is synchronous)."""
        return self._client is not None

    def _key_for(self, token: str) -> Any:
        kid = jwt.get_unverified_header(token).get("kid")
        if self._client is None and self._static is None:
            raise jwt.InvalidKeyError("no signing keys configured: every token is refused")
        if self._static is not None:
            for key in self._static.keys:
                if key.key_id == kid:
                    return key.key
            raise jwt.InvalidKeyError(f"unknown key id {kid!r}")
        assert self._client is not None
        return self._client.get_signing_key_from_jwt(token).key

    def verify(self, token: str) -> Principal:
        try:
            claims = jwt.decode(
                token,
                self._key_for(token),
                algorithms=ALGORITHMS,
                audience=AUDIENCE,
                issuer=ISSUER,
                options={"require": ["exp", "iat", "sub"]},
            )
        except (jwt.PyJWTError, ValueError) as exc:
            raise Unauthorized(f"invalid token: {exc}") from exc
        tenants = claims.get("tenants") or {}
        return Principal(
            client_id=str(claims["sub"]),
            role=str(claims.get("role", "")),
            scopes=frozenset(str(claims.get("scope", "")).split()),
            tenants={k: frozenset(map(str, tenants.get(k, []))) for k in TENANT_KINDS},
        )


_bearer = HTTPBearer(auto_error=False, description="JWT from the gateway's /oauth/token")


class ScopeRequirement:
    """A FastAPI dependency that authenticates the caller and checks one scope.

    A class rather than a closure so tests can find, on every route, which scope it requires.
    """

    def __init__(self, scope: str) -> None:
        self.scope = scope

    async def __call__(self, request: Request) -> Principal:
        credentials: HTTPAuthorizationCredentials | None = await _bearer(request)
        if credentials is None:
            raise Unauthorized("missing bearer token")
        verifier: TokenVerifier = request.app.state.token_verifier
        token = credentials.credentials
        principal = (
            await run_in_threadpool(verifier.verify, token)
            if verifier.may_block
            else verifier.verify(token)
        )
        if self.scope not in principal.scopes and not principal.is_admin:
            raise Forbidden(f"scope {self.scope!r} required")
        request.state.principal = principal
        return principal


def require_scope(scope: str) -> ScopeRequirement:
    return ScopeRequirement(scope)


def declared_scopes(route: Any) -> list[str]:
    """Scopes a route's dependencies require (empty = an undeclared, hence failing, route)."""
    found: list[str] = []
    stack = (
        list(getattr(route, "dependant", None).dependencies) if hasattr(route, "dependant") else []
    )
    while stack:
        dep = stack.pop()
        if isinstance(dep.call, ScopeRequirement):
            found.append(dep.call.scope)
        stack.extend(dep.dependencies)
    return found
