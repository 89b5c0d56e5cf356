"""The audit trail's hash chain: intact history verifies, any rewrite breaks it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from services.funding.applications.models import Transition
from services.funding.applications.rules.audit import GENESIS, entry_hash, verify_chain
from shared.ids import uuid7


def _chain(length: int) -> list[Transition]:
    application_id = uuid.uuid4()
    rows: list[Transition] = []
    previous = GENESIS
    for sequence in range(1, length + 1):
        row = Transition(
            application_id=application_id,
            sequence=sequence,
            actor_client_id="officer",
            actor_role="programme_officer",
            action=f"step{sequence}",
            from_state="a",
            to_state="b",
            fields={"reason": "x"},
            at=datetime(2026, 11, 26, 12, sequence, tzinfo=UTC),
            previous_hash=previous,
        )
        content = {
            "application_id": str(application_id),
            "sequence": sequence,
            "actor": "officer",
            "role": "programme_officer",
            "action": row.action,
            "from": "a",
            "to": "b",
            "fields": {"reason": "x"},
            "at": row.at.isoformat(),
        }
        row.hash = entry_hash(previous, content)
        previous = row.hash
        rows.append(row)
    return rows


def test_an_intact_chain_verifies() -> None:
    assert verify_chain(_chain(4))


def test_a_rewritten_entry_breaks_the_chain() -> None:
    rows = _chain(4)
    rows[1].fields = {"reason": "changed afterwards"}
    assert not verify_chain(rows)


def test_a_removed_entry_breaks_the_chain() -> None:
    rows = _chain(4)
    del rows[2]
    assert not verify_chain(rows)


def test_uuid7_is_version_7_and_time_ordered() -> None:
    first, second = uuid7(), uuid7()
    assert first.version == 7 and first.variant == uuid.RFC_4122
    assert first.int >> 80 <= second.int >> 80
