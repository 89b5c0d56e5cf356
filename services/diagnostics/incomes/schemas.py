"""Response bodies of income sources."""

from __future__ import annotations

from services.diagnostics.http.bodies import Schema


class IncomeFigure(Schema):
    name: str
    label: str
    value: float | None
    """Null: a cell under statistical secrecy in INSEE's file, unknown, never zero."""


class IncomeSourcesRead(Schema):
    territory: str
    name: str
    level: str
    year: int
    source: str
    figures: list[IncomeFigure]
    secret: list[str]
