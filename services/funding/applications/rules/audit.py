"""The audit trail's hash chain: each workflow change of an application is one entry whose
hash covers the previous entry's hash, so a rewritten history no longer verifies."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

GENESIS = "0" * 64


class Entry(Protocol):
    """What the chain reads of one stored audit entry."""

    application_id: Any
    sequence: int
    actor_client_id: str
    actor_role: str
    action: str
    from_state: str | None
    to_state: str
    fields: dict[str, Any]
    at: datetime
    previous_hash: str
    hash: str


def entry_hash(previous_hash: str, content: Mapping[str, Any]) -> str:
    """SHA-256 of the previous hash and the entry's canonical JSON."""
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256((previous_hash + canonical).encode()).hexdigest()


def content_of(row: Entry) -> dict[str, Any]:
    """The fields of an entry its hash covers."""
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


def verify_chain(rows: Sequence[Entry]) -> bool:
    """True when every entry links to the one before and its hash matches its content."""
    previous = GENESIS
    for expected_sequence, row in enumerate(rows, start=1):
        if row.sequence != expected_sequence or row.previous_hash != previous:
            return False
        if entry_hash(previous, content_of(row)) != row.hash:
            return False
        previous = row.hash
    return True
