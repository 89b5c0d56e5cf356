"""Token verification, scopes and tenant bindings: used by the gateway AND every service.

No service trusts the network: each verifies the gateway-signed JWT again with the public
keys the gateway publishes (JWKS), and each endpoint declares the scope it needs through
`require_scope`. A test walks every route and fails on any endpoint without one.

Claims: ``sub`` (client id), ``role``, ``scope`` (space-separated, OAuth2 style), and
``tenants``: which currencies, programmes, envelopes and territories the client may touch
(``"*"`` means all of that kind).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict
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


class VerifiedTokenCache:
    """Tokens already verified, so a token used for many requests is checked once.

    An ES256 signature check costs 0.1-0.3 ms of CPU, and in a service it also costs a hop
    to a worker thread (`ScopeRequirement` runs a JWKS-fetching verifier off the event loop);
    a hit here costs a hash and a dictionary lookup, on the event loop.

    Correctness: only successful verifications are stored, and an entry is served only while
    ``now < exp`` (PyJWT's own rule with zero leeway), so an expired token is never accepted;
    ``max_age_s`` also bounds how long an entry lives after its check. Keys are BLAKE2b
    digests of the whole token (no collisions in practice, and the cache holds no bearer
    credential). Bounded: least recently used entries go first. A lock, because a service's
    verifier also runs in worker threads.

    Revocation: withdrawing a signing key reaches a service through its JWKS refetch
    (PyJWKClient caches the JWKS for 300 s) plus at most ``max_age_s``; `clear` forgets
    everything at once (the gateway calls it when its key ring changes). Client revocation
    is the gateway's check, done on every request there, cache hit or not.
    """

    def __init__(self, *, max_entries: int = 10_000, max_age_s: float | None = 60.0) -> None:
        self.max_entries = max_entries
        self.max_age_s = max_age_s
        self._entries: OrderedDict[bytes, tuple[Principal, float]] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(token: str) -> bytes:
        return hashlib.blake2b(token.encode(), digest_size=20).digest()

    def get(self, key: bytes) -> Principal | None:
        """The principal of a verified, unexpired token, or None."""
        if not self._entries:
            return None
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if time.time() >= entry[1]:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry[0]

    def put(self, key: bytes, principal: Principal, *, exp: float) -> None:
        if self.max_entries <= 0:
            return
        until = exp if self.max_age_s is None else min(exp, time.time() + self.max_age_s)
        with self._lock:
            self._entries[key] = (principal, until)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


class TokenVerifier:
    """Verifies signatures against a JWKS fetched from the gateway (cached; refetched when a
    token names an unknown key id, which is how key rotation reaches services), or against a
    static JWKS document (tests, single-process dev). Verified tokens are remembered in a
    `VerifiedTokenCache` (``cache_entries=0`` checks every time)."""

    def __init__(
        self,
        *,
        jwks_url: str = "",
        jwks_json: str = "",
        key_lookup: KeyLookup | None = None,
        cache_entries: int = 10_000,
        cache_max_age_s: float | None = 60.0,
    ) -> None:
        self._client = (
            jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=300) if jwks_url else None
        )
        self._static = jwt.PyJWKSet.from_dict(json.loads(jwks_json)) if jwks_json else None
        # The gateway verifies its own tokens from its key ring: no HTTP call to itself.
        self._lookup = key_lookup
        self.cache = VerifiedTokenCache(max_entries=cache_entries, max_age_s=cache_max_age_s)

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

    def cached(self, token: str) -> Principal | None:
        """The principal if this token was verified before and is still valid; never blocks."""
        return self.cache.get(self.cache.key(token))

    def verify(self, token: str) -> Principal:
        key = self.cache.key(token)
        principal = self.cache.get(key)
        if principal is None:
            claims = self.verified_claims(token)
            principal = principal_from_claims(claims)
            self.cache.put(key, principal, exp=float(claims["exp"]))
        return principal

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
        if not verifier.may_block:
            principal = verifier.verify(token)
        else:  # a worker thread only when the JWKS may have to be fetched: not on cache hits
            cached = verifier.cached(token)
            principal = cached if cached else await run_in_threadpool(verifier.verify, token)
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
