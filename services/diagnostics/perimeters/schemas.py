"""Request parameters and response bodies of contract perimeters."""

from __future__ import annotations

from datetime import date
from typing import Literal

from services.diagnostics.http.bodies import Schema

__all__ = ["PerimeterDetail", "PerimeterKind", "PerimeterPage", "PerimeterRead"]

PerimeterKind = Literal[
    "cddra", "cfac", "pnr", "politique_ville", "contrat_territoire", "ancienne_region"
]


class PerimeterBase(Schema):
    """What a perimeter is, in a list and alone; they differ only in ``communes``."""

    kind: str
    code: str
    name: str
    valid_from: date
    valid_to: date | None
    synthetic: bool


class PerimeterRead(PerimeterBase):
    communes: int


class PerimeterPage(Schema):
    items: list[PerimeterRead]
    next_cursor: str | None


class PerimeterDetail(PerimeterBase):
    communes: list[str]
