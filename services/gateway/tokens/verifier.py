"""The gateway's token verifier: its own key ring (no HTTP to itself), the shared cache of
tokens already verified (a request is checked by the rate limiter, then the endpoint, and a
client reuses its token for many requests), and the revocation list, checked on every use
including cache hits, with the generation of clients whose authority changed."""

from __future__ import annotations

from services.gateway.clients.policy import ClientPolicy
from services.gateway.tokens.keys import KeyRing
from shared.auth import Principal, TokenVerifier
from shared.problems import Unauthorized


class GatewayTokenVerifier:
    may_block = False

    def __init__(self, ring: KeyRing, policy: ClientPolicy, *, max_entries: int = 20_000):
        self._ring = ring
        self._ring_version = ring.version
        # No age limit beyond ``exp``: a change of the key ring (a key withdrawn) clears the
        # cache at once, which is what the age limit stands in for in the services.
        self._inner = TokenVerifier(
            key_lookup=ring.public_key_for, cache_entries=max_entries, cache_max_age_s=None
        )
        self._policy = policy

    def verify(self, token: str) -> Principal:
        if self._ring_version != self._ring.version:
            self._inner.cache.clear()  # a key may have been withdrawn: verify everything again
            self._ring_version = self._ring.version
        principal = self._inner.verify(token)
        reason = self._policy.refusal(principal)
        if reason is not None:
            raise Unauthorized(f"invalid token: {reason}")
        return principal
