"""The households' incomes and the residential base of a territory or a perimeter, from
the official figures of its communes, without I/O.

Documented rules (those of ``indicators/rules/aggregation.py``): stocks are summed
(tax households, euros, rooms, pitches, dwellings); ratios are recomputed from the summed
stocks, never averaged; a cell unknown in one commune (secret, or a commune without a
line) makes the sum unknown, never zero; where a figure was published for the territory
itself (IRCOM's département line, Filosofi's file of the level), it is used instead of
the sum. Filosofi's shares of income cannot be summed at all: a territory without its own
Filosofi line (an EPCI without the EPCI file, a perimeter) has none.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from types import MappingProxyType
from typing import Any

Value = Decimal | int | None
Row = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Spec:
    """How a figure reads in French: its label, unit (``eur``, ``count``, ``ratio``,
    ``per_100``) with its French words, and what it means in one sentence."""

    label: str
    unit: str
    unit_label: str
    meaning: str


@dataclass(frozen=True, slots=True)
class Stocks:
    """The stocks of one territory for one dataset and vintage, and where they come from."""

    values: Mapping[str, Value]
    basis: str
    """``official`` (the territory's own line), ``parts`` (its départements' own lines
    summed), ``communes`` (summed), ``none``."""
    communes: int
    year: int | None
    geography_year: int | None
    source: str


def _sum(values: Sequence[Value]) -> Value:
    """Σ of the values, unknown (None) as soon as one is."""
    total: Decimal | int = 0
    for value in values:
        if value is None:
            return None
        total += value
    return total


def stocks(
    names: Sequence[str],
    *,
    own: Row | None,
    communes: Sequence[str],
    rows: Mapping[str, Row],
    parts: Sequence[str] = (),
) -> Stocks:
    """The territory's own line when it has one; else the sums of its ``parts`` (a
    région's départements) when every one has its own published line, free of the
    communes' secret cells; else the sums over ``communes`` (a commune without a line
    makes every sum unknown)."""
    if parts and all(p in rows for p in parts):
        return replace(_summed(names, [rows[p] for p in parts], len(parts)), basis="parts")
    if own is not None:
        return Stocks(
            MappingProxyType({n: own.get(n) for n in names}),
            "official",
            0,
            own.get("year"),
            own.get("geography_year"),
            str(own.get("source", "")),
        )
    if not communes:
        return Stocks(MappingProxyType(dict.fromkeys(names)), "none", 0, None, None, "")
    return _summed(names, [rows.get(c) for c in communes], len(communes))


def _summed(names: Sequence[str], lines: Sequence[Row | None], count: int) -> Stocks:
    present = [line for line in lines if line is not None]
    values = {
        n: None if len(present) < len(lines) else _sum([line.get(n) for line in present])
        for n in names
    }
    first: Row = present[0] if present else {}
    geographies = [line.get("geography_year") or 0 for line in present]
    return Stocks(
        MappingProxyType(values),
        "communes" if present else "none",
        count,
        first.get("year"),
        max(geographies, default=0) or None,
        str(first.get("source", "")),
    )


def from_sums(names: Sequence[str], sums: Row | None) -> Stocks:
    """The stocks of a territory's communes from the database's sums: a figure is known
    only when every commune has a line and a known cell (SQL's SUM skips unknowns)."""
    if not sums or not sums["lines"]:
        return Stocks(MappingProxyType(dict.fromkeys(names)), "none", 0, None, None, "")
    communes = sums["communes"]
    complete = sums["lines"] == communes
    values = {
        n: sums["sums"][n] if complete and sums["known"][n] == communes else None for n in names
    }
    return Stocks(
        MappingProxyType(values),
        "communes",
        communes,
        sums["year"],
        sums["geography_year"],
        sums["source"],
    )


def ratio(numerator: Value, denominator: Value, scale: int = 1) -> float | None:
    """numerator / denominator × scale, from the stocks; unknown or undefined → None."""
    if numerator is None or denominator is None or denominator == 0:
        return None
    return float(Decimal(numerator) * scale / Decimal(denominator))


def plus(*values: Value, weights: Sequence[int] | None = None) -> Value:
    """Σ wᵢ·vᵢ, unknown as soon as one value is."""
    weights = weights or [1] * len(values)
    total: Decimal | int = 0
    for value, weight in zip(values, weights, strict=True):
        if value is None:
            return None
        total += value * weight
    return total


Derived = Callable[[Mapping[str, Value], int | None], Value | float]


def figures(
    specs: Mapping[str, Spec],
    found: Stocks,
    derived: Mapping[str, Derived],
    population: int | None,
) -> list[dict[str, Any]]:
    """Every figure of a section, stored or derived, with its French words; a value is
    null when unknown (secret cell, missing commune) or undefined."""
    out = []
    for name, spec in specs.items():
        if name in derived:
            value = derived[name](found.values, population)
        else:
            value = found.values.get(name)
        out.append(
            {
                "name": name,
                "label": spec.label,
                "value": None if value is None else float(value),
                "unit": spec.unit,
                "unit_label": spec.unit_label,
                "meaning": spec.meaning,
            }
        )
    return out


def basis_label(found: Stocks) -> str:
    """Where a section's figures come from, in French."""
    if found.basis == "official":
        return "Chiffre publié pour le territoire lui-même"
    if found.basis == "parts":
        plural = "s" if found.communes > 1 else ""
        return (
            f"Somme des chiffres publiés pour {found.communes} département{plural} "
            "(ratios recalculés sur les sommes)"
        )
    if found.basis == "communes":
        plural = "s" if found.communes > 1 else ""
        return f"Somme de {found.communes} commune{plural} (ratios recalculés sur les sommes)"
    return "Aucun chiffre importé pour ce territoire ni pour ses communes"


def source_line(found: Stocks, fallback_geography: int | None) -> str:
    """« Source : DGFiP, IRCOM revenus 2022, géographie au 1er janvier 2025 »."""
    if found.basis == "none":
        return ""
    geography = found.geography_year or fallback_geography
    where = f", géographie au 1er janvier {geography}" if geography else ""
    return f"Source : {found.source}{where}"
