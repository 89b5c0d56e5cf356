"""argon2id hashing of client secrets, off the event loop.

A verification costs ~100 ms of CPU and 64 MiB by design (RFC 9106 low-memory profile):
running it in a worker thread keeps every other request flowing meanwhile.
"""

from __future__ import annotations

import secrets

from anyio import to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError


def new_secret() -> str:
    """256 bits from the OS CSPRNG, URL-safe so it survives form and Basic encoding."""
    return secrets.token_urlsafe(32)


class SecretHasher:
    def __init__(self, *, time_cost: int = 3, memory_kib: int = 65_536, parallelism: int = 4):
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism
        )
        # Verified against when a client id is unknown, so that case costs the same time
        # as a wrong secret and does not reveal which client ids exist.
        self._decoy = self._hasher.hash(new_secret())

    async def hash(self, secret: str) -> str:
        return await to_thread.run_sync(self._hasher.hash, secret)

    async def verify(self, secret_hash: str, secret: str) -> bool:
        return await to_thread.run_sync(self._verify, secret_hash, secret)

    def _verify(self, secret_hash: str, secret: str) -> bool:
        try:
            return self._hasher.verify(secret_hash, secret)
        except (VerificationError, InvalidHashError):
            return False

    async def burn_time(self, secret: str) -> None:
        await self.verify(self._decoy, secret)

    def needs_rehash(self, secret_hash: str) -> bool:
        return self._hasher.check_needs_rehash(secret_hash)
