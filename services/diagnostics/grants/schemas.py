"""Response bodies of the grant aggregates."""

from __future__ import annotations

from datetime import datetime

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
