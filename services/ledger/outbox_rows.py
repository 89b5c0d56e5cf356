"""Outbox rows built in Python and written by the statement that makes the change.

`shared.events.outbox.record_event` writes one event with one INSERT. The posting paths
write a transaction's events in the same statement as the transaction (single transfers) or
all of a batch's events in one array statement: the rows are the same (envelope, topic,
key), only the round trips differ.
"""

from __future__ import annotations

from collections.abc import Iterable

from shared.events.envelope import encode, new_event
from shared.events.metrics import EVENTS_RECORDED
from shared.events.registry import EventPayload, topic_for
from shared.observability import correlation_id_var

OutboxRow = tuple[str, str, str, str, bytes]
"""(event id, event type, topic, key, encoded CloudEvents envelope)"""


def outbox_rows(events: Iterable[tuple[EventPayload, str]], *, source: str) -> list[OutboxRow]:
    """The rows for ``(payload, subject)`` pairs, in order; counted as recorded."""
    correlation_id = correlation_id_var.get()
    rows = []
    for payload, subject in events:
        event = new_event(payload, source=source, subject=subject, correlation_id=correlation_id)
        rows.append((event.id, event.type, topic_for(event.type), subject, encode(event)))
        EVENTS_RECORDED.labels(event.type).inc()
    return rows
