"""Use cases of the token endpoint and of the signing keys. They only flush: the request
commits."""

from __future__ import annotations

import asyncio
import math
from datetime import UTC, datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.gateway.clients import service as clients_service
from services.gateway.clients.hashing import SecretHasher
from services.gateway.tokens import events
from services.gateway.tokens.errors import (
    InvalidClient,
    InvalidScope,
    KeyRotationUnavailable,
    SigningKeyNotFound,
    TooManyFailures,
)
from services.gateway.tokens.failures import AuthFailureLimiter
from services.gateway.tokens.issuer import Grant, IssuedToken, issue_token
from services.gateway.tokens.keys import KeyRing, SigningKey
from shared.auth import TENANT_KINDS

log = structlog.get_logger(__name__)

KEY_REFRESH_EVERY_S = 5


async def grant_token(
    *,
    session_factory: async_sessionmaker[AsyncSession],
    hasher: SecretHasher,
    failures: AuthFailureLimiter,
    ring: KeyRing,
    client_id: str,
    secret: str,
    address: str,
    scope: str | None,
    ttl_s: int,
) -> IssuedToken:
    """A token for the client these credentials authenticate, limited to ``scope`` (a
    space-separated subset of the client's scopes) when one is asked for.

    Failed authentications are limited per client id and per address: over the limit, the
    request is refused before its secret is even hashed."""
    wait = failures.retry_after_s(client_id, address)
    if wait is not None:
        raise TooManyFailures(
            "too many failed authentications for this client or from this address",
            retry_after_s=max(1, math.ceil(wait)),
        )
    try:
        client = await clients_service.authenticate(session_factory, hasher, client_id, secret)
    except InvalidClient:
        failures.failed(client_id, address)
        raise
    granted = tuple(client.scopes)
    if scope is not None and scope.strip():
        asked = tuple(dict.fromkeys(scope.split()))
        if not set(asked) <= set(granted):
            raise InvalidScope(f"not granted to this client: {sorted(set(asked) - set(granted))}")
        granted = asked
    return issue_token(
        ring,
        Grant(
            client_id=client.client_id,
            role=client.role,
            scopes=granted,
            tenants={kind: list(getattr(client, kind)) for kind in TENANT_KINDS},
            generation=client.generation,
        ),
        ttl_s=ttl_s,
    )


async def rotate_signing_key(session: AsyncSession, ring: KeyRing) -> tuple[SigningKey, list[str]]:
    """A new key signs from now on; keys whose tokens have all expired are retired."""
    if not ring.writable:
        raise KeyRotationUnavailable("keys come from a PEM bundle: rotate by updating the file")
    key, retired = ring.rotate()
    await events.signing_key_rotated(session, kid=key.kid, retired=retired, at=datetime.now(UTC))
    return key, retired


async def withdraw_signing_key(session: AsyncSession, ring: KeyRing, kid: str) -> SigningKey:
    """Remove ``kid`` at once (it leaked); returns the key that signs from now on."""
    if not ring.writable:
        raise KeyRotationUnavailable("keys come from a PEM bundle: withdraw by editing the file")
    if kid not in {key.kid for key in ring.keys}:
        raise SigningKeyNotFound(f"no published signing key {kid!r}")
    # The event first: if removing the key fails, the transaction is rolled back with it.
    await events.signing_key_withdrawn(session, kid=kid, reason="withdrawn", at=datetime.now(UTC))
    await session.flush()
    try:
        ring.withdraw(kid)
    except KeyError as exc:  # withdrawn meanwhile by a concurrent request
        raise SigningKeyNotFound(f"no published signing key {kid!r}") from exc
    return ring.signing_key


async def follow_key_changes(
    session_factory: async_sessionmaker[AsyncSession], ring: KeyRing
) -> None:
    """Another replica (or an operator) may rotate or remove keys: pick them up within
    seconds, and tell the services about every key that left the JWKS (they refuse its
    tokens at once instead of when their JWKS copy expires). Each replica that notices a
    removal says so; services apply the same withdrawal twice without harm."""
    while True:
        await asyncio.sleep(KEY_REFRESH_EVERY_S)
        try:
            before = {key.kid for key in ring.keys}
            if not ring.refresh():
                continue
            removed = sorted(before - {key.kid for key in ring.keys})
            if removed:
                now = datetime.now(UTC)
                async with session_factory() as session, session.begin():
                    for kid in removed:
                        await events.signing_key_withdrawn(
                            session, kid=kid, reason="withdrawn", at=now
                        )
                log.warning("signing_keys_removed", kids=removed)
        except Exception as exc:
            log.warning("signing_keys_refresh_failed", error=repr(exc))
