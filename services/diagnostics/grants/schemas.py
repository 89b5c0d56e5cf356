"""Response bodies of the grant aggregates and of the instruments' figures."""

from __future__ import annotations

from datetime import date, datetime

from services.diagnostics.http.bodies import Schema


class GrantRead(Schema):
    territory: str
    programme: str
    currency: str
    period: str
    committed: int
    released: int
    net_committed: int
    payments: int
    paid: int
    updated_at: datetime


class GrantPage(Schema):
    items: list[GrantRead]
    next_cursor: str | None


class InstrumentsSummary(Schema):
    """Loans and guarantees of a territory (euro cents), summed over its départements."""

    territory: str
    departements: list[str]
    as_of: date | None
    instruments: int
    public_cents: int
    bank_loans_cents: int
    due_cents: int
    repaid_cents: int
    losses_cents: int
    leverage: float | None
    repayment_rate: float | None


class InstrumentsRead(InstrumentsSummary):
    """The summary with the territory's level."""

    level: str
