"""Every SQL statement of idempotency keys (the posting statement also answers a key it
claimed, see `services.ledger.transactions.repository`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.ledger.database.driver import fetch, fetchrow, jsonb_param

Row = dict[str, Any]

_CLAIM_KEY = """
INSERT INTO idempotency_keys (client_id, key, request_hash) VALUES ($1, $2, $3)
ON CONFLICT DO NOTHING RETURNING key
"""
_EARLIER_CLAIM = """
SELECT client_id, key, request_hash, response, created_at FROM idempotency_keys
WHERE client_id = $1 AND key = $2
"""
_REMEMBER = "UPDATE idempotency_keys SET response = $3::jsonb WHERE client_id = $1 AND key = $2"


async def claim_idempotency_key(
    session: AsyncSession, *, client_id: str, key: str, request_hash: str
) -> Row | None:
    """Claim ``key``; None when claimed now, else the earlier claim (waits for it to commit)."""
    if await fetchrow(session, _CLAIM_KEY, client_id, key, request_hash) is not None:
        return None
    row = await fetchrow(session, _EARLIER_CLAIM, client_id, key)
    assert row is not None
    return dict(row)


async def remember_response(
    session: AsyncSession, *, client_id: str, key: str, response: Any
) -> None:
    await fetch(session, _REMEMBER, client_id, key, jsonb_param(response))


_CLAIM_KEYS = """
INSERT INTO idempotency_keys (client_id, key, request_hash)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) ORDER BY 1, 2
ON CONFLICT DO NOTHING RETURNING client_id, key
"""
_EARLIER_CLAIMS = """
SELECT k.client_id, k.key, k.request_hash, k.response FROM idempotency_keys k
JOIN unnest($1::text[], $2::text[]) AS w (client_id, key)
    ON k.client_id = w.client_id AND k.key = w.key
"""


async def claim_idempotency_keys(
    session: AsyncSession, claims: list[tuple[str, str, str]]
) -> dict[tuple[str, str], Row]:
    """Claim every (client, key, request hash) of ``claims`` (distinct pairs) in one
    statement, in (client, key) order (two groups claiming overlapping keys never
    deadlock); the earlier claims of the pairs claimed before, by pair (waits for them to
    commit, as one claim does)."""
    rows = await fetch(session, _CLAIM_KEYS, *(list(c) for c in zip(*sorted(claims), strict=True)))
    return await earlier_claims(session, claims, {(r["client_id"], r["key"]) for r in rows})


async def earlier_claims(
    session: AsyncSession,
    claims: list[tuple[str, str, str]],
    claimed: set[tuple[str, str]],
) -> dict[tuple[str, str], Row]:
    """The earlier claims of the pairs of ``claims`` not in ``claimed`` (those this
    transaction just claimed), by pair; no statement when every pair was claimed now.

    A statement of its own, after the claim: the claim waited for a concurrent claim of
    the same key to commit, and only a later statement's snapshot sees that row."""
    missed = [(c, k) for c, k, _ in sorted(claims) if (c, k) not in claimed]
    if not missed:
        return {}
    earlier = await fetch(session, _EARLIER_CLAIMS, [c for c, _ in missed], [k for _, k in missed])
    return {(r["client_id"], r["key"]): dict(r) for r in earlier}
