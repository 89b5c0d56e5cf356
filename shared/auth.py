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
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import jwt
from fastapi import Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.problems import Forbidden, Unauthorized

ISSUER = "proxima-gateway"
AUDIENCE = "proxima"
ALGORITHMS = ["ES256", "RS256", "EdDSA"]
ADMIN_SCOPE = "admin"

TenantKind = Literal["currencies", "programmes", "envelopes", "territories"]
TENANT_KINDS: tuple[TenantKind, ...] = ("currencies", "programmes", "envelopes", "territories")

KeyLookup = Callable[[str | None], Any]
"""Returns the public key for a token's ``kid`` header, or raises ``jwt.InvalidKeyError``."""


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

    def __init__(
        self, *, jwks_url: str = "", jwks_json: str = "", key_lookup: KeyLookup | None = None
    ) -> None:
        self._client = (
            jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=300) if jwks_url else None
        )
        self._static = jwt.PyJWKSet.from_dict(json.loads(jwks_json)) if jwks_json else None
        # The gateway verifies its own tokens from its key ring: no HTTP call to itself.
        self._lookup = key_lookup

    @property
    def may_block(self) -> bool:
        """True when verifying may fetch keys over HTTP (PyJWKClient is synchronous)."""
        return self._client is not None

    def _key_for(self, token: str) -> Any:
        kid = jwt.get_unverified_header(token).get("kid")
        if self._lookup is not None:
            return self._lookup(kid)
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
        return principal_from_claims(self.verified_claims(token))

    def verified_claims(self, token: str) -> dict[str, Any]:
        """The token's claims once signature, expiry, issuer and audience are checked."""
        try:
            return jwt.decode(
                token,
                self._key_for(token),
                algorithms=ALGORITHMS,
                audience=AUDIENCE,
                issuer=ISSUER,
                options={"require": ["exp", "iat", "sub"]},
            )
        except (jwt.PyJWTError, ValueError) as exc:
            raise Unauthorized(f"invalid token: {exc}") from exc


def principal_from_claims(claims: dict[str, Any]) -> Principal:
    tenants = claims.get("tenants") or {}
    if not isinstance(tenants, dict):
        raise Unauthorized("invalid token: tenants claim is not an object")
    return Principal(
        client_id=str(claims["sub"]),
        role=str(claims.get("role", "")),
        scopes=frozenset(str(claims.get("scope", "")).split()),
        tenants={k: frozenset(map(str, tenants.get(k) or [])) for k in TENANT_KINDS},
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
        return await self.authorise(request, credentials.credentials)

    async def authorise(self, request: Request, token: str) -> Principal:
        """Verify ``token`` and check the scope; the principal lands in ``request.state``."""
        verifier: TokenVerifier = request.app.state.token_verifier
        principal = (
            await run_in_threadpool(verifier.verify, token)
            if verifier.may_block
            else verifier.verify(token)
        )
        if self.scope not in principal.scopes and not principal.is_admin:
            raise Forbidden(f"scope {self.scope!r} required")
        request.state.principal = principal
        return principal


class QueryTokenScopeRequirement(ScopeRequirement):
    """Like `ScopeRequirement`, but also takes the token from ``?access_token=``.

    Only for endpoints a browser opens without being able to set headers (``EventSource``
    for Server-Sent Events). Query strings end up in access logs: keep such endpoints few
    and tokens short-lived.
    """

    async def __call__(
        self,
        request: Request,
        access_token: str | None = Query(
            default=None, description="The bearer token, for clients that cannot send headers"
        ),
    ) -> Principal:
        credentials: HTTPAuthorizationCredentials | None = await _bearer(request)
        if credentials is not None:
            return await self.authorise(request, credentials.credentials)
        if access_token:
            return await self.authorise(request, access_token)
        raise Unauthorized("missing bearer token")


def require_scope(scope: str, *, allow_query_token: bool = False) -> ScopeRequirement:
    """The dependency declaring ``scope``; ``allow_query_token`` is for EventSource endpoints."""
    return QueryTokenScopeRequirement(scope) if allow_query_token else ScopeRequirement(scope)


def declared_scopes(route: Any) -> list[str]:
    """Scopes a route's dependencies require (empty = an undeclared, hence failing, route)."""
    found: list[str] = []
    dependant = getattr(route, "dependant", None)
    stack = list(dependant.dependencies) if dependant is not None else []
    while stack:
        dep = stack.pop()
        if isinstance(dep.call, ScopeRequirement):
            found.append(dep.call.scope)
        stack.extend(dep.dependencies)
    return found
