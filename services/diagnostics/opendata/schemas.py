"""Response bodies of the open data (API names in English; the CSV has French headers)."""

from __future__ import annotations

from datetime import datetime

from services.diagnostics.http.bodies import Schema


class Publication(Schema):
    currency: str
    licence: str
    opted_in_by: str
    opted_in_at: datetime


class Licence(Schema):
    name: str
    url: str


class DisclosureRules(Schema):
    min_accounts: int
    dominance_share: float
    secondary_suppression: str


class FigureRow(Schema):
    currency: str
    territory: str | None
    period: str
    circulation: int | None
    velocity: float | None
    reconversion_leakage: float | None
    active_accounts: int | None
    suppressed: bool


class OpenDataDocument(Schema):
    licence: Licence
    rules: DisclosureRules
    items: list[FigureRow]
