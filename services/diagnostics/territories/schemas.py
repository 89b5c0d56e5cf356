"""Request parameters and response bodies of territories."""

from __future__ import annotations

from typing import Literal

from services.diagnostics.http.bodies import Schema
from services.diagnostics.territories.rules import LEVELS

Level = Literal["region", "departement", "zone_emploi", "epci", "commune"]
assert set(Level.__args__) == set(LEVELS)  # type: ignore[attr-defined]


class TerritoryRead(Schema):
    code: str
    level: str
    name: str
    parent_code: str | None
    legal_population: int | None
    synthetic: bool


class TerritoryPage(Schema):
    items: list[TerritoryRead]
    next_cursor: str | None
