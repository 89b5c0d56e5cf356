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
    correlation_id = correlation_id_var.get()
    trace = envelope_attributes()  # empty unless tracing is on
    time = json_instant(now or datetime.now(UTC))
    ids = ids if ids is not None else (str(uuid.uuid4()) for _ in itertools.count())
    rows: list[OutboxRow] = []
    for tx_id, kind, effective_date, reverses, by_currency in transactions:
        day = effective_date.isoformat()
        for currency in sorted(by_currency):
            event_id = next(ids)
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
                "postings": [
                    {"account_id": a, "account_type": t, "territory": z, "amount": n}
                    for a, t, z, n in by_currency[currency]
                ],
                "effective_date": day,
                "reverses": reverses,
            }
            rows.append((event_id, _POSTED, _POSTED_TOPIC, tx_id, json.dumps(envelope).encode()))
    _POSTED_COUNTER.inc(len(rows))
    return rows
