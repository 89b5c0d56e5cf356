"""Use cases of idempotency keys: claim a key for one request, remember its answer.

A key is claimed in the unit of work that runs the request, so a refused request leaves
no claim behind, and a concurrent claim of the same key waits for the first to commit.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.ledger.idempotency import repository as repo
from services.ledger.idempotency.errors import IdempotencyKeyReused


async def claim(session: AsyncSession, *, client_id: str, key: str, digest: str) -> Any:
    """Claim (client, key) for the request hashed as ``digest``: ``None`` if the key is new
    (the caller runs the request and stores its answer in the same transaction); the stored
    answer if the same request ran before; 409 for another request under the key, or for
    one whose answer is not stored."""
    earlier = await repo.claim_idempotency_key(
        session, client_id=client_id, key=key, request_hash=digest
    )
    if earlier is None:
        return None
    found = answer(earlier, digest, key)
    if isinstance(found, IdempotencyKeyReused):
        raise found
    return found


async def claimed_before(session: AsyncSession, *, client_id: str, key: str) -> bool:
    """Claim ``key`` for a step done once (its own hash); True if it was claimed before."""
    earlier = await repo.claim_idempotency_key(
        session, client_id=client_id, key=key, request_hash=key
    )
    return earlier is not None


async def remember(session: AsyncSession, *, client_id: str, key: str, response: Any) -> None:
    """Store the answer a replay under (client, key) returns."""
    await repo.remember_response(session, client_id=client_id, key=key, response=response)


async def claim_many(
    session: AsyncSession, claims: list[tuple[str, str, str]]
) -> dict[tuple[str, str], Any]:
    """`claim` for many (client, key, digest) at once (distinct pairs): the pairs claimed
    before, each with its stored answer, or the `IdempotencyKeyReused` refusal `claim`
    raises (returned, not raised: one request's refusal is not its neighbours')."""
    if not claims:
        return {}
    return answers(claims, await repo.claim_idempotency_keys(session, claims))


def answers(
    claims: list[tuple[str, str, str]], earlier: dict[tuple[str, str], Any]
) -> dict[tuple[str, str], Any]:
    """Each earlier claim's stored answer, or its refusal (`answer`), by pair."""
    digests = {(c, k): d for c, k, d in claims}
    return {pair: answer(row, digests[pair], pair[1]) for pair, row in earlier.items()}


def answer(earlier: Any, digest: str, key: str) -> Any:
    """The stored answer to replay, or the refusal of a key used with another request (or
    whose answer is not stored)."""
    if earlier["request_hash"] != digest or earlier["response"] is None:
        return IdempotencyKeyReused(
            "this idempotency key was used with a different request", idempotency_key=key
        )
    return earlier["response"]
