"""What the live dashboard keeps of each event it subscribes to: a small JSON projection
with its tenant tags. Pure, so each mapping is tested without a bus or a database.

A ledger transaction becomes one row per territory it touches, carrying only the amount
that moved there: a territory-bound viewer then sees its own activity and nothing of the
other side's accounts. Account ids never reach the stream.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from services.gateway.domain.tenancy import Tags
from shared.events.catalog.diagnostics import AggregateUpdated
from shared.events.catalog.funding import PaymentOrdered
from shared.events.catalog.ledger import TransactionPosted
from shared.events.envelope import Event
from shared.events.registry import registered_types

AGGREGATE_TYPE = AggregateUpdated.event_type
TRANSACTION_TYPE = TransactionPosted.event_type
PAYMENT_TYPE = PaymentOrdered.event_type
APPLICATION_PREFIX = "proxima.funding.application."
# Fields a funding application event may carry for the amount committed to it.
COMMITTED_AMOUNT_FIELDS = ("committed_amount", "amount_committed", "granted_amount", "amount")


@dataclass(frozen=True, slots=True)
class StreamRow:
    event_type: str
    tags: Tags
    data: dict[str, Any]


def streamed_types() -> list[str]:
    """Event types the gateway streams: three fixed ones plus every funding application
    event the catalog declares (the funding service adds them as its workflow grows)."""
    fixed = [AGGREGATE_TYPE, TRANSACTION_TYPE, PAYMENT_TYPE]
    return fixed + [t for t in registered_types() if t.startswith(APPLICATION_PREFIX)]


def project(event: Event) -> list[StreamRow]:
    if event.type == AGGREGATE_TYPE:
        return [_aggregate(event)]
    if event.type == TRANSACTION_TYPE:
        return _transaction(event)
    if event.type == PAYMENT_TYPE:
        return [_payment(event)]
    if event.type.startswith(APPLICATION_PREFIX):
        return [_application(event)]
    return []


def _aggregate(event: Event) -> StreamRow:
    p = event.data
    assert isinstance(p, AggregateUpdated)
    data = {
        "metric": _clip(p.metric, 100),
        "period": _clip(p.period, 20),
        "value": p.value,
        "unit": _clip(p.unit, 50),
    }
    return StreamRow(event.type, _tags(p.territory, p.currency), data)


def _transaction(event: Event) -> list[StreamRow]:
    p = event.data
    assert isinstance(p, TransactionPosted)
    credits: dict[str | None, int] = defaultdict(int)
    debits: dict[str | None, int] = defaultdict(int)
    for leg in p.postings:
        (credits if leg.amount > 0 else debits)[leg.territory] += abs(leg.amount)
    touched = [t for t in {*credits, *debits} if t is not None] or [None]
    rows = []
    for territory in sorted(touched, key=lambda t: t or ""):
        if territory is None:
            volume = max(sum(credits.values()), sum(debits.values()))
        else:
            volume = max(credits.get(territory, 0), debits.get(territory, 0))
        data = {
            "transaction_id": p.transaction_id,
            "kind": p.kind,
            "amount": volume,
            "effective_date": p.effective_date.isoformat(),
            "reversal": p.reverses is not None,
        }
        rows.append(StreamRow(event.type, _tags(territory, p.currency), data))
    return rows


def _payment(event: Event) -> StreamRow:
    p = event.data
    assert isinstance(p, PaymentOrdered)
    data = {
        "order_id": p.order_id,
        "application_id": p.application_id,
        "tranche_id": p.tranche_id,
        "amount": p.amount,
    }
    return StreamRow(event.type, _tags(p.territory, p.currency, p.programme_code), data)


def _application(event: Event) -> StreamRow:
    raw = event.data.model_dump(mode="json")
    programme = raw.get("programme_code") or raw.get("programme")
    tags = _tags(
        _str_or_none(raw.get("territory")),
        _str_or_none(raw.get("currency")),
        _str_or_none(programme),
    )
    data: dict[str, Any] = {
        "application_id": _clip(str(raw.get("application_id") or event.subject), 200),
        "verb": event.type.removeprefix(APPLICATION_PREFIX).rsplit(".", 1)[0],
    }
    for name in ("state", "status", "decision"):
        if isinstance(raw.get(name), str):
            data[name] = raw[name]
    for name in COMMITTED_AMOUNT_FIELDS:
        if isinstance(raw.get(name), int):
            data["committed_amount"] = raw[name]
            break
    return StreamRow(event.type, tags, data)


def _str_or_none(value: object) -> str | None:
    return None if value is None else str(value)


def _clip(value: str, size: int) -> str:
    return value[:size]


def _tags(territory: str | None, currency: str | None, programme: str | None = None) -> Tags:
    """Tags fit their columns (100 characters): a long code must not dead-letter an event."""
    return Tags(
        territory=None if territory is None else _clip(territory, 100),
        currency=None if currency is None else _clip(currency, 100),
        programme=None if programme is None else _clip(programme, 100),
    )
