"""Pure rules of the live stream: who may see an event, and what the stream keeps of it.

Who (default deny, the same in the SSE stream and the dashboard summary): an event is
visible when the caller is bound to EVERY tenant the event names: its territory, its
currency and its programme, each checked only if the event carries it. An admin sees all.

What: a small JSON projection of each event the gateway subscribes to, with its tenant
tags; each mapping is tested without a bus or a database. A ledger transaction becomes one
row per territory it touches, carrying only the amount that moved there: a territory-bound
viewer then sees its own activity and nothing of the other side's accounts. Account ids,
actors and free-text reasons never reach the stream.

Funding events are read as plain dictionaries of their documented fields rather than
through their classes, so the funding service can grow its catalogue without breaking
the gateway; a type this module does not know is simply not streamed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from shared.auth import Principal, TenantKind
from shared.events.catalog.diagnostics import AggregateUpdated
from shared.events.catalog.ledger import TransactionPosted
from shared.events.envelope import Event
from shared.events.registry import registered_types


@dataclass(frozen=True, slots=True)
class Tags:
    """The tenants a stream event belongs to (None = the event says nothing of that kind)."""

    territory: str | None = None
    currency: str | None = None
    programme: str | None = None

    def items(self) -> tuple[tuple[TenantKind, str | None], ...]:
        return (
            ("territories", self.territory),
            ("currencies", self.currency),
            ("programmes", self.programme),
        )


def is_visible(principal: Principal, tags: Tags) -> bool:
    return all(
        principal.may_access(kind, value) for kind, value in tags.items() if value is not None
    )


@dataclass(frozen=True, slots=True)
class TenantFilter:
    """The same rule in a form a SQL query can use: for each kind, the allowed values, or
    None when every value is allowed."""

    territories: frozenset[str] | None
    currencies: frozenset[str] | None
    programmes: frozenset[str] | None

    @classmethod
    def of(cls, principal: Principal) -> TenantFilter:
        return cls(
            territories=principal.visible("territories"),
            currencies=principal.visible("currencies"),
            programmes=principal.visible("programmes"),
        )


AGGREGATE_TYPE = AggregateUpdated.event_type
TRANSACTION_TYPE = TransactionPosted.event_type
PAYMENT_ORDERED_TYPE = "proxima.funding.payment.ordered.v1"
PAYMENT_PAID_TYPE = "proxima.funding.payment.paid.v1"
BUDGET_COMMITTED_TYPE = "proxima.funding.budget.committed.v1"
BUDGET_RELEASED_TYPE = "proxima.funding.budget.released.v1"
DECISION_TYPE = "proxima.funding.decision.recorded.v1"
INSTRUMENT_FIGURES_TYPE = "proxima.funding.instrument.figures.v1"
INSTRUMENT_METRICS = {"leverage": "ratio", "repayment_rate": "share"}
"""The instruments' figures the dashboard shows, as territory metrics ``instruments_<name>``
(the unit says how to read the value)."""
APPLICATION_PREFIX = "proxima.funding.application."
# Budget amounts are euro cents.
BUDGET_CURRENCY = "EUR"


@dataclass(frozen=True, slots=True)
class StreamRow:
    event_type: str
    tags: Tags
    data: dict[str, Any]


def streamed_types() -> list[str]:
    """The types the gateway subscribes to, among those the catalogue declares: the
    regional aggregates, ledger transactions, grant commitments and payments, committee
    decisions and every application workflow step."""
    known = registered_types()
    wanted = [
        t
        for t in (AGGREGATE_TYPE, TRANSACTION_TYPE, INSTRUMENT_FIGURES_TYPE, *_FUNDING)
        if t in known
    ]
    return wanted + [t for t in known if t.startswith(APPLICATION_PREFIX)]


def project(event: Event) -> list[StreamRow]:
    if event.type == AGGREGATE_TYPE:
        return [_aggregate(event)]
    if event.type == TRANSACTION_TYPE:
        return _transaction(event)
    raw = event.data.model_dump(mode="json")
    if event.type == INSTRUMENT_FIGURES_TYPE:
        return _instrument_figures(event.type, raw)
    if event.type in _FUNDING:
        return [_FUNDING[event.type](event.type, raw)]
    if event.type.startswith(APPLICATION_PREFIX):
        return [_application(event.type, raw)]
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
    touched: list[str | None] = [t for t in {*credits, *debits} if t is not None] or [None]
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


def _instrument_figures(event_type: str, raw: Mapping[str, Any]) -> list[StreamRow]:
    """One metric row per figure the territory has (no leverage without public money)."""
    tags = _tags(raw["territory"], BUDGET_CURRENCY)
    return [
        StreamRow(
            event_type,
            tags,
            {
                "metric": f"instruments_{name}",
                "period": _clip(str(raw["as_of"]), 20),
                "value": raw[name],
                "unit": unit,
            },
        )
        for name, unit in INSTRUMENT_METRICS.items()
        if raw.get(name) is not None
    ]


def _payment(event_type: str, raw: Mapping[str, Any]) -> StreamRow:
    data = _pick(raw, "order_id", "application_id", "tranche_id", "amount", "mode")
    tags = _tags(raw.get("territory"), raw["currency"], raw["programme_code"])
    return StreamRow(event_type, tags, data)


def _budget(event_type: str, raw: Mapping[str, Any]) -> StreamRow:
    data = _pick(raw, "application_id", "envelope_code", "year", "amount_cents")
    data["amount"] = data.pop("amount_cents")
    tags = _tags(raw.get("territory"), BUDGET_CURRENCY, raw["programme_code"])
    return StreamRow(event_type, tags, data)


def _decision(event_type: str, raw: Mapping[str, Any]) -> StreamRow:
    data = _pick(raw, "application_id", "outcome", "amount_cents", "requested_amount_cents")
    tags = _tags(raw.get("territory"), BUDGET_CURRENCY, raw["programme_code"])
    return StreamRow(event_type, tags, data)


def _application(event_type: str, raw: Mapping[str, Any]) -> StreamRow:
    data = _pick(raw, "application_id", "from_state", "to_state")
    data["verb"] = event_type.removeprefix(APPLICATION_PREFIX).rsplit(".", 1)[0]
    tags = _tags(raw.get("territory"), None, raw.get("programme_code"))
    return StreamRow(event_type, tags, data)


_FUNDING: dict[str, Callable[[str, Mapping[str, Any]], StreamRow]] = {
    PAYMENT_ORDERED_TYPE: _payment,
    PAYMENT_PAID_TYPE: _payment,
    BUDGET_COMMITTED_TYPE: _budget,
    BUDGET_RELEASED_TYPE: _budget,
    DECISION_TYPE: _decision,
}


def _pick(raw: Mapping[str, Any], *names: str) -> dict[str, Any]:
    return {name: raw.get(name) for name in names}


def _clip(value: str, size: int) -> str:
    return value[:size]


def _tags(territory: Any, currency: Any, programme: Any = None) -> Tags:
    """Tags fit their columns (100 characters): a long code must not dead-letter an event."""

    def fit(value: Any) -> str | None:
        return None if value is None else _clip(str(value), 100)

    return Tags(territory=fit(territory), currency=fit(currency), programme=fit(programme))
