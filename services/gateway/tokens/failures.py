"""Failed client authentications at ``/oauth/token``, limited two ways: per client id,
whichever addresses the attempts come from (a distributed guess at one client's secret),
and per address, whichever client ids it names (one caller trying many clients).

A failure takes one token from both buckets; a success takes nothing. When either bucket
is empty the request is refused (429, Retry-After) before its secret is even hashed, so a
guessing flood also costs no argon2 time. The price, stated plainly: while someone keeps
failing for a client id, that client's own correct attempts are refused too, for as long
as the failures go on (a throttle, lifted at the refill rate, never a permanent lockout).
Buckets live in each gateway replica and hold its share of the limit (see ``replicas.py``).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from services.gateway.traffic.rules import RateLimiter

Limit = Callable[[], tuple[int, int]]
"""(per minute, burst) of this replica, asked at each use: replicas come and go."""


class AuthFailureLimiter:
    def __init__(
        self,
        *,
        per_client: Limit,
        per_address: Limit,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_client = per_client
        self.per_address = per_address
        self.clock = clock
        self._clients = RateLimiter(max_keys=100_000)
        self._addresses = RateLimiter(max_keys=100_000)

    def retry_after_s(self, client_id: str, address: str) -> float | None:
        """Seconds to wait if this client id or this address has failed too often, else
        None."""
        now = self.clock()
        waits = []
        for limiter, key, (per_minute, burst) in self._buckets(client_id, address):
            decision = limiter.peek(key, capacity=burst, per_minute=per_minute, now=now)
            if not decision.allowed:
                waits.append(decision.retry_after_s)
        return max(waits) if waits else None

    def failed(self, client_id: str, address: str) -> None:
        now = self.clock()
        for limiter, key, (per_minute, burst) in self._buckets(client_id, address):
            limiter.take(key, capacity=burst, per_minute=per_minute, now=now)

    def _buckets(
        self, client_id: str, address: str
    ) -> list[tuple[RateLimiter, str, tuple[int, int]]]:
        return [
            (self._clients, client_id[:64], self.per_client()),
            (self._addresses, address, self.per_address()),
        ]
