"""The gateway's token verifier: its own key ring (no HTTP to itself), a cache of tokens
already verified (a request can be checked by the rate limiter, then the endpoint), and
the revocation list, checked on every use including cache hits."""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict

from services.gateway.clients.policy import ClientPolicy
from services.gateway.tokens.keys import KeyRing
from shared.auth import Principal, TokenVerifier, principal_from_claims
from shared.problems import Unauthorized


class GatewayTokenVerifier:
    may_block = False

    def __init__(self, ring: KeyRing, policy: ClientPolicy, *, max_entries: int = 20_000):
        self._ring = ring
        self._ring_version = ring.version
        self._inner = TokenVerifier(key_lookup=ring.public_key_for)
        self._policy = policy
        self._max_entries = max_entries
        self._cache: OrderedDict[bytes, tuple[Principal, float]] = OrderedDict()

    def verify(self, token: str) -> Principal:
        if self._ring_version != self._ring.version:
            self._cache.clear()  # a key may have been withdrawn: verify everything again
            self._ring_version = self._ring.version
        key = hashlib.blake2b(token.encode(), digest_size=20).digest()
        cached = self._cache.get(key)
        if cached is not None and cached[1] > time.time():
            self._cache.move_to_end(key)
            principal = cached[0]
        else:
            claims = self._inner.verified_claims(token)
            principal = principal_from_claims(claims)
            self._cache[key] = (principal, float(claims["exp"]))
            if len(self._cache) > self._max_entries:
                self._cache.popitem(last=False)
        if self._policy.is_revoked(principal.client_id):
            raise Unauthorized("invalid token: the client has been revoked")
        return principal
