"""Pure rules of contract perimeters: the kinds of contract, and what one version is."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

PERIMETER_KINDS = (
    "cddra",
    "cfac",
    "pnr",
    "politique_ville",
    "contrat_territoire",
    "ancienne_region",
)
"""CDDRA, CFAC, PNR, politique de la ville, contrats de territoire, and the former régions
(Rhône-Alpes, Auvergne) kept as perimeters for series that predate the 2016 régions."""


@dataclass(frozen=True, slots=True)
class PerimeterVersion:
    """One version of a perimeter: its communes over [valid_from, valid_to)."""

    kind: str
    code: str
    name: str
    valid_from: date
    valid_to: date | None
    communes: frozenset[str]
    synthetic: bool = False


def perimeter_key(kind: str, code: str) -> str:
    """How a perimeter is named among territories in a computed year: ``cddra:ARDECHE``."""
    return f"{kind}:{code}"
