"""Token verification, scopes and tenant bindings: used by the gateway AND every service.

No service trusts the network: each verifies the gateway-signed JWT again with the public
keys the gateway publishes (JWKS), and each endpoint declares the scope it needs through
`require_scope`. A test walks every route and fails on any endpoint without one.

Claims: ``sub`` (client id), ``role``, ``scope`` (space-separated, OAuth2 style),
``tenants``: which currencies, programmes, envelopes and territories the client may touch
(``"*"`` means all of that kind), and ``cgen``: the generation of the client's authority
(scopes, tenants, role) the token was issued under.

Revocation reaches every process within seconds: the gateway publishes
``proxima.gateway.client.changed.v1`` and ``proxima.gateway.signing_key.*`` events, each
service follows them (`shared.auth_events`) and records them in its `TokenRevocations`,
which every use of a token consults, cache hit or not.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import urllib.request
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import jwt
import structlog
from fastapi import Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.problems import Forbidden, Unauthorized

log = structlog.get_logger(__name__)
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
    # About the token rather than the client: not part of equality.
    generation: int = field(default=0, compare=False)
    """The client's authority generation the token carries (``cgen``; 0 when absent)."""
    expires_at: float = field(default=0.0, compare=False)
    """The token's ``exp`` (seconds since the epoch; 0 when unknown)."""
    key_id: str | None = field(default=None, compare=False)
    """The ``kid`` of the key that signed the token."""

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

    def ensure_filters(self, filters: dict[TenantKind, str | None]) -> None:
        """Raise 403 for a list filter naming a value outside the bindings; an absent filter
        (None) asks for nothing, the query itself keeps the rows to what is readable."""
        for kind, value in filters.items():
            if value is not None:
                self.ensure_access(kind, value)

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

    Revocation does not rely on this cache expiring: `TokenVerifier` checks its
    `TokenRevocations` on every use, hits included, and `clear` forgets everything at once
    (services call it on every client or key event from the gateway, the gateway when its
    key ring changes). ``max_age_s`` only bounds how long a mistake could live.
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


class TokenRevocations:
    """What this process heard about clients and keys since it started, consulted on every
    use of a token (a dictionary lookup):

    - a **revoked** client: every token it holds is refused;
    - a client whose **scopes, tenants or role changed**: its tokens carrying an older
      generation (``cgen``) than the change are refused. Tokens issued after the change
      carry the new generation. (A generation read with the client's row rather than a
      time: a token issued in the same second as the change, from the row before it,
      would pass a time comparison with ``iat``'s one-second resolution.)
    - a **withdrawn** signing key: tokens naming its ``kid`` are refused, even while a
      JWKS fetched from a gateway replica that has not noticed yet still lists it.

    A client entry is forgotten at its ``until`` (the change plus a token lifetime: every
    token issued before the change has expired by then, and a revoked client gets no new
    ones); withdrawn key ids are kept (the key may still be in an attacker's hands), at most
    ``max_keys`` of them. Thread-safe: the verifier also runs in worker threads.
    """

    def __init__(self, *, max_clients: int = 100_000, max_keys: int = 1_000) -> None:
        self.max_clients = max_clients
        self.max_keys = max_keys
        # client id -> (revoked, lowest generation accepted, forget after)
        self._clients: dict[str, tuple[bool, int, float]] = {}
        self._keys: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def client_changed(
        self, client_id: str, *, generation: int, revoked: bool, until: float
    ) -> None:
        """Record a change (idempotent; applying an older event never undoes a newer one)."""
        now = time.time()
        with self._lock:
            if until <= now:
                return
            before = self._clients.get(client_id)
            if before is not None:
                revoked = revoked or before[0]
                generation = max(generation, before[1])
                until = max(until, before[2])
            self._clients[client_id] = (revoked, generation, until)
            if len(self._clients) > self.max_clients:
                self._prune(now)

    def key_withdrawn(self, kid: str) -> None:
        with self._lock:
            self._keys[kid] = None
            self._keys.move_to_end(kid)
            while len(self._keys) > self.max_keys:
                self._keys.popitem(last=False)

    def is_key_withdrawn(self, kid: str | None) -> bool:
        return kid is not None and kid in self._keys

    def refusal(self, principal: Principal) -> str | None:
        """Why this token may no longer be used, or None."""
        if principal.key_id is not None and principal.key_id in self._keys:
            return "its signing key has been withdrawn"
        entry = self._clients.get(principal.client_id)
        if entry is None:
            return None
        revoked, generation, until = entry
        if until <= time.time():
            return None
        if revoked:
            return "the client has been revoked"
        if principal.generation < generation:
            return "the client's scopes, tenants or role changed since it was issued"
        return None

    def check(self, principal: Principal) -> None:
        reason = self.refusal(principal)
        if reason is not None:
            raise Unauthorized(f"invalid token: {reason}")

    def _prune(self, now: float) -> None:
        for client_id in [c for c, (_, _, until) in self._clients.items() if until <= now]:
            del self._clients[client_id]
        while len(self._clients) > self.max_clients:  # still too many: oldest first
            self._clients.pop(next(iter(self._clients)))

    def __len__(self) -> int:
        return len(self._clients)


class JwksCache:
    """The gateway's public keys as fetched from its JWKS URL, for at most ``ttl_s``.

    Why not PyJWT's ``PyJWKClient``: with ``cache_keys=True`` (what we used) it memoises
    every key by ``kid`` in an ``lru_cache`` that never expires, so a key the gateway
    withdrew (leaked) kept verifying tokens in a service until that service restarted,
    whatever ``lifespan`` said (the lifespan only governs the JWKS document); without it,
    an unknown ``kid`` waits out a 30 s cooldown before a refetch, and nothing lets the
    owner drop one key. Here the whole set is one dictionary, replaced at every fetch: a
    key absent from the latest JWKS is gone.

    A fetch happens when the set is older than ``ttl_s``, when a token names an unknown
    ``kid`` (at most once per ``min_interval_s``, so forged key ids cannot turn into a
    flood of requests to the gateway), or when told (`invalidate`, `refresh`: on the
    gateway's key events). A failed fetch keeps the previous set (an unreachable gateway
    must not make every service refuse every token) and is retried after
    ``min_interval_s``; a withdrawn key does not depend on fetches: `withdraw` drops it.
    """

    def __init__(
        self,
        url: str,
        *,
        ttl_s: float = 60.0,
        min_interval_s: float = 1.0,
        timeout_s: float = 5.0,
        fetch: Callable[[str, float], dict[str, Any]] | None = None,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"a JWKS URL must be http(s): {url!r}")
        self.url = url
        self.ttl_s = ttl_s
        self.min_interval_s = min_interval_s
        self.timeout_s = timeout_s
        self._fetch = fetch or _fetch_json
        self._keys: dict[str, Any] = {}
        self._fetched_at = float("-inf")  # monotonic time of the last successful fetch
        self._attempted_at = float("-inf")  # ... of the last attempt, successful or not
        self._withdrawn: set[str] = set()
        self._lock = threading.Lock()
        self.fetches = 0

    def key_for(self, kid: str | None) -> Any:
        if kid is None or kid in self._withdrawn:
            raise jwt.InvalidKeyError(f"unknown key id {kid!r}")
        now = time.monotonic()
        if now - self._fetched_at >= self.ttl_s:
            self._refresh_if_due(now)
        key = self._keys.get(kid)
        if key is None:
            self._refresh_if_due(time.monotonic())
            key = self._keys.get(kid)
        if key is None:
            raise jwt.InvalidKeyError(f"unknown key id {kid!r}")
        return key

    def _refresh_if_due(self, now: float) -> None:
        with self._lock:
            # Another thread may have fetched while this one waited for the lock.
            if now - self._attempted_at < self.min_interval_s:
                return
            self._refresh_locked()

    def refresh(self) -> None:
        """Fetch now (blocking: call it from a worker thread)."""
        with self._lock:
            self._refresh_locked()

    def _refresh_locked(self) -> None:
        self._attempted_at = time.monotonic()
        try:
            document = self._fetch(self.url, self.timeout_s)
            keys = {
                key.key_id: key.key
                for key in jwt.PyJWKSet.from_dict(document).keys
                if key.key_id is not None and key.key_id not in self._withdrawn
            }
        except Exception as exc:  # network, HTTP status, JSON, no usable key
            log.warning("jwks_fetch_failed", url=self.url, error=repr(exc))
            return
        self._keys = keys
        self._fetched_at = self._attempted_at
        self.fetches += 1

    def invalidate(self) -> None:
        """The next lookup fetches the JWKS again."""
        self._fetched_at = self._attempted_at = float("-inf")

    def withdraw(self, kid: str) -> None:
        """Forget ``kid`` now and never take it from a JWKS again."""
        with self._lock:
            self._withdrawn.add(kid)
            self._keys = {k: v for k, v in self._keys.items() if k != kid}
        self.invalidate()

    @property
    def key_ids(self) -> frozenset[str]:
        return frozenset(self._keys)


def _fetch_json(url: str, timeout_s: float) -> dict[str, Any]:
    request = urllib.request.Request(url, headers={"User-Agent": "proxima-jwks"})
    with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310 - http(s) checked
        document = json.loads(response.read(1_048_576))
    if not isinstance(document, dict):
        raise ValueError("the JWKS is not a JSON object")
    return document


class TokenVerifier:
    """Verifies signatures against the gateway's JWKS (a `JwksCache`, which is how key
    rotation and withdrawal reach services), or against a static JWKS document (tests,
    single-process dev), or through ``key_lookup`` (the gateway's own key ring). Verified
    tokens are remembered in a `VerifiedTokenCache` (``cache_entries=0`` checks every
    time); every use, cached or not, is checked against `revocations`."""

    def __init__(
        self,
        *,
        jwks_url: str = "",
        jwks_json: str = "",
        key_lookup: KeyLookup | None = None,
        cache_entries: int = 10_000,
        cache_max_age_s: float | None = 60.0,
        jwks_ttl_s: float = 60.0,
    ) -> None:
        self.jwks = JwksCache(jwks_url, ttl_s=jwks_ttl_s) if jwks_url else None
        self._static = jwt.PyJWKSet.from_dict(json.loads(jwks_json)) if jwks_json else None
        # The gateway verifies its own tokens from its key ring: no HTTP call to itself.
        self._lookup = key_lookup
        self.cache = VerifiedTokenCache(max_entries=cache_entries, max_age_s=cache_max_age_s)
        self.revocations = TokenRevocations()

    @property
    def may_block(self) -> bool:
        """True when verifying may fetch keys over HTTP (the fetch is synchronous)."""
        return self.jwks is not None

    @property
    def follows_gateway(self) -> bool:
        """True when keys come from the gateway's JWKS: then this process should follow the
        gateway's client and key events (`shared.auth_events`)."""
        return self.jwks is not None

    def _key_for(self, token: str) -> Any:
        kid = jwt.get_unverified_header(token).get("kid")
        if self.revocations.is_key_withdrawn(kid):
            raise jwt.InvalidKeyError(f"key {kid!r} has been withdrawn")
        if self._lookup is not None:
            return self._lookup(kid)
        if self.jwks is None and self._static is None:
            raise jwt.InvalidKeyError("no signing keys configured: every token is refused")
        if self._static is not None:
            for key in self._static.keys:
                if key.key_id == kid:
                    return key.key
            raise jwt.InvalidKeyError(f"unknown key id {kid!r}")
        assert self.jwks is not None
        return self.jwks.key_for(kid)

    def cached(self, token: str) -> Principal | None:
        """The principal if this token was verified before and is still valid; never blocks."""
        principal = self.cache.get(self.cache.key(token))
        if principal is not None:
            self.revocations.check(principal)
        return principal

    def verify(self, token: str) -> Principal:
        key = self.cache.key(token)
        principal = self.cache.get(key)
        if principal is None:
            claims = self.verified_claims(token)
            principal = principal_from_claims(claims, key_id=_kid_of(token))
            self.revocations.check(principal)  # a refused token is not cached
            self.cache.put(key, principal, exp=float(claims["exp"]))
            return principal
        self.revocations.check(principal)
        return principal

    def withdraw_key(self, kid: str) -> None:
        """A signing key was withdrawn: refuse its tokens from now on, cached or not."""
        self.revocations.key_withdrawn(kid)
        if self.jwks is not None:
            self.jwks.withdraw(kid)
        self.cache.clear()

    def refresh_keys(self) -> None:
        """Fetch the JWKS now (blocking: from a worker thread); no-op for static keys."""
        if self.jwks is not None:
            self.jwks.refresh()

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
        except TypeError as exc:
            # An allowed algorithm that does not fit the key the ``kid`` names (RS256 over
            # an EC key): PyJWT fails while preparing the key, before any signature check.
            raise Unauthorized("invalid token: its algorithm does not match its key") from exc


def _kid_of(token: str) -> str | None:
    kid = jwt.get_unverified_header(token).get("kid")
    return str(kid) if kid is not None else None


def principal_from_claims(claims: dict[str, Any], *, key_id: str | None = None) -> Principal:
    tenants = claims.get("tenants") or {}
    if not isinstance(tenants, dict):
        raise Unauthorized("invalid token: tenants claim is not an object")
    generation = claims.get("cgen", 0)
    if not isinstance(generation, int) or isinstance(generation, bool) or generation < 0:
        raise Unauthorized("invalid token: cgen claim is not a non-negative integer")
    return Principal(
        client_id=str(claims["sub"]),
        role=str(claims.get("role", "")),
        scopes=frozenset(str(claims.get("scope", "")).split()),
        tenants={k: frozenset(map(str, tenants.get(k) or [])) for k in TENANT_KINDS},
        generation=generation,
        expires_at=float(claims.get("exp", 0)),
        key_id=key_id,
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
        # Long-lived responses (the SSE stream) verify it again while they last.
        request.state.access_token = token
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
