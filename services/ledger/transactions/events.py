"""Outbox rows built in Python and written by the statement that makes the change.

`shared.events.outbox.record_event` writes one event with one INSERT. The posting paths
write a transaction's events in the same statement as the transaction (single transfers) or
all of a batch's events in one array statement: the rows are the same (envelope, topic,
key), only the round trips differ.
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from services.ledger.instants import json_instant
from shared.events.catalog.ledger import TransactionPosted
from shared.events.metrics import EVENTS_RECORDED
from shared.events.registry import topic_for
from shared.observability import correlation_id_var
from shared.tracing import envelope_attributes

OutboxRow = tuple[str, str, str, str, bytes]
"""(event id, event type, topic, key, encoded CloudEvents envelope)"""


# --- transaction.posted, written directly --------------------------------------------------

_POSTED = TransactionPosted.event_type
_POSTED_TOPIC = topic_for(_POSTED)
_POSTED_COUNTER = EVENTS_RECORDED.labels(_POSTED)

PostedLegRow = tuple[str, str, str | None, int]
"""(account id, account type, territory, amount) of one leg of one currency."""

PostedTransaction = tuple[str, str, date, str | None, dict[str, list[PostedLegRow]]]
"""(transaction id, kind, effective date, reversed transaction id, legs by currency)"""


def posted_transaction(
    *,
    tx_id: UUID,
    kind: str,
    effective_date: date,
    reverses: UUID | None,
    legs: Iterable[Any],
    accounts: Mapping[UUID, Mapping[str, Any]],
) -> PostedTransaction:
    """What `posted_rows` needs of one transaction: its legs (``account_id``, ``currency``,
    ``amount``) grouped by currency, each with its account's type and territory (what the
    diagnostics service maps flows with)."""
    by_currency: dict[str, list[PostedLegRow]] = {}
    for leg in legs:
        account = accounts[leg.account_id]
        by_currency.setdefault(leg.currency, []).append(
            (str(leg.account_id), account["type"], account["territory"], leg.amount)
        )
    return str(tx_id), kind, effective_date, str(reverses) if reverses else None, by_currency


def posted_rows(
    transactions: Iterable[PostedTransaction],
    *,
    source: str,
    now: datetime | None = None,
    ids: Iterator[str] | None = None,
) -> list[OutboxRow]:
    """The outbox rows of ``transaction.posted`` events, one per currency of each
    ``(transaction id, kind, effective date, reverses, legs by currency)``: the bytes
    `shared.events.envelope.encode` writes for the same `TransactionPosted`, built without
    the payload models (docs/decisions/ledger-posting-paths-written-directly.md). The
    values come from validated requests and locked account rows; a unit test holds the two
    encoders to the same bytes.
    """
    context = _context()
    time = json_instant(now or datetime.now(UTC))
    ids = ids if ids is not None else (str(uuid.uuid4()) for _ in itertools.count())
    rows: list[OutboxRow] = []
    for tx_id, kind, effective_date, reverses, by_currency in transactions:
        for currency in sorted(by_currency):
            event_id = next(ids)
            postings = [
                {"account_id": a, "account_type": t, "territory": z, "amount": n}
                for a, t, z, n in by_currency[currency]
            ]
            head = (tx_id, kind, effective_date, reverses)
            envelope = _posted_envelope(event_id, source, time, context, head, currency, postings)
            rows.append((event_id, _POSTED, _POSTED_TOPIC, tx_id, json.dumps(envelope).encode()))
    _POSTED_COUNTER.inc(len(rows))
    return rows


Context = tuple[str | None, Mapping[str, str]]
"""The correlation id and trace attributes of the current context (read once a call)."""


def _context() -> Context:
    return correlation_id_var.get(), envelope_attributes()  # trace: empty unless tracing on


def _posted_envelope(
    event_id: str,
    source: str,
    time: str,
    context: Context,
    head: tuple[str, str, date, str | None],
    currency: str,
    postings: Any,
) -> dict[str, Any]:
    """The CloudEvents envelope of one ``transaction.posted`` event (one currency of one
    transaction)."""
    tx_id, kind, effective_date, reverses = head
    correlation_id, trace = context
    envelope: dict[str, Any] = {
        "id": event_id,
        "source": source,
        "type": _POSTED,
        "specversion": "1.0",
        "subject": tx_id,
        "time": time,
        "datacontenttype": "application/json",
    }
    if correlation_id:
        envelope["correlationid"] = correlation_id
    if trace:
        envelope.update(trace)
    envelope["data"] = {
        "transaction_id": tx_id,
        "currency": currency,
        "kind": kind,
        "postings": postings,
        "effective_date": effective_date.isoformat(),
        "reverses": reverses,
    }
    return envelope


POSTINGS_SLOT = "@@postings@@"
"""What a template (`posted_templates`) holds where the postings go: the database puts
them there (``ledger_post_group``), each with its account's type and territory as it
locked them, written in ``json.dumps``' layout, so the bytes are those `posted_rows`
writes."""

PostedTemplate = tuple[str, str, str, str, str]
"""(event id, event type, topic, currency, envelope text with `POSTINGS_SLOT`)"""


def posted_templates(
    tx_id: UUID,
    kind: str,
    effective_date: date,
    currencies: Iterable[str],
    *,
    source: str,
    now: datetime | None = None,
) -> list[PostedTemplate]:
    """The ``transaction.posted`` events of one transaction not posted yet, one per
    currency, as templates whose postings the posting function fills in (a group item's
    accounts are known only once locked, in the same round trip that writes the event)."""
    context = _context()
    time = json_instant(now or datetime.now(UTC))
    head = (str(tx_id), kind, effective_date, None)
    templates: list[PostedTemplate] = []
    for currency in sorted(set(currencies)):
        event_id = str(uuid.uuid4())
        envelope = _posted_envelope(event_id, source, time, context, head, currency, POSTINGS_SLOT)
        templates.append((event_id, _POSTED, _POSTED_TOPIC, currency, json.dumps(envelope)))
    return templates


def count_posted(events: int) -> None:
    """Count ``events`` transaction.posted events recorded (templates that were written)."""
    _POSTED_COUNTER.inc(events)
