"""Response bodies of the live currency aggregates."""

from __future__ import annotations

from datetime import datetime

from services.diagnostics.http.bodies import Schema


class AggregateRead(Schema):
    territory: str
    currency: str
    period: str
    transactions: int
    issued: int
    received_from_outside: int
    spent_locally: int
    spent_outside: int
    reconverted: int
    volume: int
    active_accounts: int
    local_respend_share: float | None
    external_spend_share: float | None
    reconversion_leakage: float | None
    updated_at: datetime


class AggregatePage(Schema):
    items: list[AggregateRead]
    next_cursor: str | None


class CirculationRead(Schema):
    territory: str
    currency: str
    period: str
    velocity: float | None
    issued: int
    received_from_outside: int
    spent_locally: int
    spent_outside: int
    reconverted: int
    local_respend_share: float | None
    reconversion_leakage: float | None
    r1: int
    r2: int
    r3: int
    lm3: float | None
