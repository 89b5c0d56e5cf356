"""argon2id hashing of client secrets, off the event loop and a bounded number at a time.

A verification costs ~100 ms of CPU and 64 MiB by design (RFC 9106 low-memory profile):
running it in a worker thread keeps every other request flowing meanwhile. At most
``max_concurrent`` run at once (each holds its 64 MiB only while it runs), so a flood of
token requests costs the gateway ``max_concurrent`` × the memory cost, not one hash per
worker thread; at most ``max_waiting`` more wait, each at most ``max_wait_s``, and the rest
are turned away at once with `TokenEndpointBusy` (503 with Retry-After) instead of
queueing without bound.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from typing import TypeVar

from anyio import to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from prometheus_client import Counter, Gauge

from services.gateway.tokens.errors import TokenEndpointBusy

HASHES_IN_FLIGHT = Gauge("proxima_gateway_argon2_in_flight", "argon2 hash operations running now")
HASHES_IN_FLIGHT_PEAK = Gauge(
    "proxima_gateway_argon2_in_flight_peak",
    "Most argon2 hash operations ever seen running at once in this process",
)
HASHES_WAITING = Gauge("proxima_gateway_argon2_waiting", "Requests waiting to hash a secret")
HASHES_REFUSED = Counter(
    "proxima_gateway_argon2_refused_total",
    "Requests turned away because too many secrets were being hashed",
)

T = TypeVar("T")
_peak = 0  # the process-wide figure behind HASHES_IN_FLIGHT_PEAK


def _busy(retry_after_s: int) -> TokenEndpointBusy:
    return TokenEndpointBusy(
        f"too many secrets are being checked at once; retry after {retry_after_s} s",
        retry_after_s=retry_after_s,
    )


def new_secret() -> str:
    """256 bits from the OS CSPRNG, URL-safe so it survives form and Basic encoding."""
    return secrets.token_urlsafe(32)


class SecretHasher:
    def __init__(
        self,
        *,
        time_cost: int = 3,
        memory_kib: int = 65_536,
        parallelism: int = 4,
        max_concurrent: int = 4,
        max_waiting: int = 64,
        max_wait_s: float = 2.0,
    ):
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism
        )
        self.max_concurrent = max_concurrent
        self.max_waiting = max_waiting
        self.max_wait_s = max_wait_s
        self._slots = asyncio.Semaphore(max_concurrent)  # bound to the first loop using it
        self._waiting = 0
        self._running = 0
        self.peak_running = 0
        # Verified against when a client id is unknown, so that case costs the same time
        # as a wrong secret and does not reveal which client ids exist.
        self._decoy = self._hasher.hash(new_secret())

    async def _bounded(self, work: Callable[..., T], *args: str) -> T:
        if self._slots.locked():
            if self._waiting >= self.max_waiting:
                HASHES_REFUSED.inc()
                raise _busy(self._retry_after_s())
            self._waiting += 1
            HASHES_WAITING.set(self._waiting)
            try:
                async with asyncio.timeout(self.max_wait_s):
                    await self._slots.acquire()
            except TimeoutError:
                HASHES_REFUSED.inc()
                raise _busy(self._retry_after_s()) from None
            finally:
                self._waiting -= 1
                HASHES_WAITING.set(self._waiting)
        else:
            await self._slots.acquire()
        global _peak
        self._running += 1
        self.peak_running = max(self.peak_running, self._running)
        _peak = max(_peak, self._running)
        HASHES_IN_FLIGHT.set(self._running)
        HASHES_IN_FLIGHT_PEAK.set(_peak)
        try:
            # Not cancellable mid-hash: the thread would go on holding the memory while
            # its slot was handed to the next request.
            return await to_thread.run_sync(work, *args, abandon_on_cancel=False)
        finally:
            self._running -= 1
            HASHES_IN_FLIGHT.set(self._running)
            self._slots.release()

    def _retry_after_s(self) -> int:
        return max(1, round(self.max_wait_s))

    async def hash(self, secret: str) -> str:
        return await self._bounded(self._hasher.hash, secret)

    async def verify(self, secret_hash: str, secret: str) -> bool:
        return await self._bounded(self._verify, secret_hash, secret)

    def _verify(self, secret_hash: str, secret: str) -> bool:
        try:
            return self._hasher.verify(secret_hash, secret)
        except (VerificationError, InvalidHashError):
            return False

    async def burn_time(self, secret: str) -> None:
        await self.verify(self._decoy, secret)

    def needs_rehash(self, secret_hash: str) -> bool:
        return self._hasher.check_needs_rehash(secret_hash)
