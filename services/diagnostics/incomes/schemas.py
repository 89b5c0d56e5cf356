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


class SectionFigure(Schema):
    name: str
    label: str
    value: float | None
    """Null: unknown (a secret cell, a commune without a line) or undefined, never zero."""
    unit: str
    unit_label: str
    meaning: str


class ResidentialSection(Schema):
    """One section of a territory's residential base, with its vintage and sources."""

    key: str
    title: str
    year: int | None
    basis: str
    """``official``: the territory's own line; ``communes``: summed from its communes."""
    basis_label: str
    sources: list[str]
    note: str | None
    figures: list[SectionFigure]
    unknown: list[str]


class OfficialFiguresRead(ResidentialSection):
    territory: str
    name: str
    level: str
