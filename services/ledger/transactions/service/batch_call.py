"""Atomic batches in one round trip: the batch's key claimed, its items locked, checked
against running state and written, its key answered, all in one call of the PL/pgSQL
function ``ledger_post_batch`` (migration ``ledger_0022``), run as its own transaction.

The function posts the items through ``ledger_post_group`` (the group commit's function,
`group.py`) and keeps them only if every one was posted. Anything else answers ``None``
here, and the caller runs the batch on the one-transaction path (`batch.py`), which words
the refusal exactly as before (problem type, text, the item it names): a batch with an
item refused by the rules Python checks first (tenancy, double entry), an explicitly dated
item (closing rules are Python's), an item the function refuses or defers (a currency
reserve's account), or a refusal by the database at commit (a deferred constraint). Why
not word the refusal from the function's code: the messages stay in one place, and a
refused batch is rare on the hot path, where it costs a second transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from services.ledger.idempotency import service as keys
from services.ledger.transactions import repository as repo
from services.ledger.transactions.events import count_posted
from services.ledger.transactions.rules import Posting
from services.ledger.transactions.schemas import BatchCreate, atomic_json
from services.ledger.transactions.service.group import REFUSALS, Item, add_item, valid_legs
from shared.auth import Principal


@dataclass(frozen=True, slots=True)
class BatchReplay:
    """The batch's key was answered before: the record its row keeps."""

    record: Any


async def post_atomic_call(
    engine: AsyncEngine,
    principal: Principal,
    body: BatchCreate,
    *,
    key: str | None,
    digest: str,
) -> str | BatchReplay | None:
    """The atomic batch ``body`` in one round trip: its response as JSON text (201), the
    record of an earlier answer under ``key`` (`BatchReplay`), or ``None`` when the batch
    must run on the one-transaction path (nothing was written, the key was not claimed).
    Raises `IdempotencyKeyReused` for a key used with another body."""
    if any(item.effective_date is not None for item in body.items):
        return None
    now = datetime.now(UTC)
    arrays = repo.GroupArrays()
    canonical: list[tuple[Posting, ...]] = []
    for fields in body.items:
        item = Item(principal=principal, body=fields, key=None, digest=None)
        try:
            legs = valid_legs(item)
        except REFUSALS:
            return None
        canonical.append(legs)
        add_item(arrays, item, legs, now.date(), now)
    try:
        rows = await repo.post_batch(engine, (principal.client_id, key, digest), arrays, now)
    except IntegrityError:
        return None
    outcome = rows[0]["outcome"] if rows else "posted"
    if outcome == "fallback":
        return None
    if outcome == "replay":
        assert key is not None
        found = keys.answer(
            {"request_hash": rows[0]["earlier_hash"], "response": rows[0]["earlier_response"]},
            digest,
            key,
        )
        if isinstance(found, BaseException):
            raise found
        return BatchReplay(found)
    count_posted(sum(len({leg.currency for leg in legs}) for legs in canonical))
    return atomic_json(
        [
            (row, [(leg.account_id, leg.currency, leg.amount) for leg in legs])
            for row, legs in zip(rows, canonical, strict=True)
        ]
    )
