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
