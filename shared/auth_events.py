"""How a service hears of revocations: it follows the gateway's client and signing-key
events in every process (`BroadcastFollower`) and applies them to its `TokenVerifier`:

- ``client.changed``: the client's revocation or new authority generation goes into the
  verifier's `TokenRevocations`, and its cache of verified tokens is cleared;
- ``signing_key.withdrawn``: the key id is refused from now on, dropped from the JWKS
  copy, the cache is cleared and the JWKS fetched again;
- ``signing_key.rotated``: the JWKS is fetched again (the new key is known before its
  first token arrives), and retired keys are dropped like withdrawn ones.

A service started after the events replays them from the topic, so a restart does not
forget a revocation whose tokens are still unexpired.
"""

from __future__ import annotations

import asyncio

import structlog

from shared.auth import TokenVerifier
from shared.events.broadcast import BroadcastFollower
from shared.events.catalog.gateway import ClientChanged, SigningKeyRotated, SigningKeyWithdrawn
from shared.events.envelope import Event
from shared.settings import ServiceSettings

log = structlog.get_logger(__name__)

GATEWAY_SOURCE = "/proxima/gateway"
TOKEN_EVENT_TYPES = {
    ClientChanged.event_type,
    SigningKeyWithdrawn.event_type,
    SigningKeyRotated.event_type,
}


def apply_token_event(verifier: TokenVerifier, event: Event) -> bool:
    """Apply one event; True if the JWKS should be fetched again."""
    data = event.data
    if isinstance(data, ClientChanged):
        verifier.revocations.client_changed(
            data.client_id,
            generation=data.generation,
            revoked=data.revoked,
            until=data.tokens_expire_by.timestamp(),
        )
        verifier.cache.clear()
        return False
    if isinstance(data, SigningKeyWithdrawn):
        verifier.withdraw_key(data.kid)
        return True
    if isinstance(data, SigningKeyRotated):
        for kid in data.retired:
            verifier.withdraw_key(kid)
        if verifier.jwks is not None:
            verifier.jwks.invalidate()
        return True
    return False


def token_event_follower(settings: ServiceSettings, verifier: TokenVerifier) -> BroadcastFollower:
    async def handle(events: list[Event]) -> None:
        refetch = False
        for event in events:
            refetch = apply_token_event(verifier, event) or refetch
            log.info("token_event_applied", type=event.type, subject=event.subject)
        if refetch:
            # Off the event loop: the JWKS fetch is a blocking HTTP call.
            await asyncio.to_thread(verifier.refresh_keys)

    return BroadcastFollower(
        settings,
        name="token-events",
        event_types=TOKEN_EVENT_TYPES,
        source=GATEWAY_SOURCE,
        handle=handle,
    )
