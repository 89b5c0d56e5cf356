"""The audit trail: one hash-chained, append-only row per workflow change of an application."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.store import repository
from services.funding.store.models import Application, Transition

GENESIS = "0" * 64


def entry_hash(previous_hash: str, content: Mapping[str, Any]) -> str:
    """SHA-256 of the previous hash and the entry's canonical JSON."""
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256((previous_hash + canonical).encode()).hexdigest()


def _content(row: Transition) -> dict[str, Any]:
    return {
        "application_id": str(row.application_id),
        "sequence": row.sequence,
        "actor": row.actor_client_id,
        "role": row.actor_role,
        "action": row.action,
        "from": row.from_state,
        "to": row.to_state,
        "fields": row.fields,
        "at": row.at.astimezone(UTC).isoformat(),
    }


async def record(
    session: AsyncSession,
    application: Application,
    *,
    actor: str,
    role: str,
    action: str,
    from_state: str | None,
    to_state: str,
    fields: Mapping[str, Any],
) -> Transition:
    """Append one audit entry chained to the application's previous one."""
    last = await repository.last_transition(session, application.id)
    row = Transition(
        application_id=application.id,
        sequence=1 if last is None else last.sequence + 1,
        actor_client_id=actor,
        actor_role=role,
        action=action,
        from_state=from_state,
        to_state=to_state,
        fields=json.loads(json.dumps(dict(fields), default=str)),
        at=datetime.now(UTC),
        previous_hash=GENESIS if last is None else last.hash,
    )
    row.hash = entry_hash(row.previous_hash, _content(row))
    session.add(row)
    await session.flush()
    return row


def verify_chain(rows: Sequence[Transition]) -> bool:
    """True when every entry links to the one before and its hash matches its content."""
    previous = GENESIS
    for expected_sequence, row in enumerate(rows, start=1):
        if row.sequence != expected_sequence or row.previous_hash != previous:
            return False
        if entry_hash(previous, _content(row)) != row.hash:
            return False
        previous = row.hash
    return True
