"""The four engines of development ("moteurs du développement") and their balance.

Economic base theory (Davezies, Talandier) splits the *basic income* (revenu basique, RB)
that flows into a territory from outside into four bases:

* **productive**: wages and self-employed income of export-oriented activities;
* **residential**: pensions, wages of residents working elsewhere (out-commuters),
  tourists' spending, property income;
* **public**: wages of public employees working in the territory;
* **social**: social transfers (benefits, minimum incomes, health reimbursements when the
  source includes them).

All amounts are whole euros per year (``int``); ratios are returned as ``float``.
Concentration measures are computed with exact rational arithmetic and only converted to
``float`` at the end, so "equal shares gives exactly 0" holds for any integer input.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from enum import StrEnum
from fractions import Fraction
from types import MappingProxyType
from typing import TypeVar

from services.diagnostics.errors import InvalidInput, UndefinedIndicator

K = TypeVar("K")


class Engine(StrEnum):
    """One of the four bases of a territory's basic income."""

    PRODUCTIVE = "productive"
    RESIDENTIAL = "residential"
    PUBLIC = "public"
    SOCIAL = "social"


ENGINES: tuple[Engine, ...] = tuple(Engine)


@dataclass(frozen=True, slots=True, kw_only=True)
class BasicIncome:
    """Basic income components of one territory for one year, in whole euros per year."""

    productive_wages: int = 0
    productive_self_employed: int = 0
    pensions: int = 0
    commuter_wages: int = 0
    tourism_spending: int = 0
    property_income: int = 0
    public_wages: int = 0
    social_transfers: int = 0

    def __post_init__(self) -> None:
        for name in COMPONENT_NAMES:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise InvalidInput(f"{name} must be a whole number of euros", component=name)
            if value < 0:
                raise InvalidInput(f"{name} must not be negative (got {value})", component=name)

    def components(self) -> dict[str, int]:
        """Every component by name, in euros."""
        return {name: getattr(self, name) for name in COMPONENT_NAMES}


COMPONENT_NAMES: tuple[str, ...] = tuple(field.name for field in fields(BasicIncome))
"""Looked up once: ``dataclasses.fields`` costs more than the checks it feeds, and every
territory-year builds a BasicIncome."""


COMPONENTS: Mapping[Engine, tuple[str, ...]] = MappingProxyType(
    {
        Engine.PRODUCTIVE: ("productive_wages", "productive_self_employed"),
        Engine.RESIDENTIAL: (
            "pensions",
            "commuter_wages",
            "tourism_spending",
            "property_income",
        ),
        Engine.PUBLIC: ("public_wages",),
        Engine.SOCIAL: ("social_transfers",),
    }
)
"""Which :class:`BasicIncome` components make up each engine's base."""


def engine_bases(income: BasicIncome) -> dict[Engine, int]:
    """Base of each engine: B_e = Σ components of e (€/year)."""
    parts = income.components()
    return {engine: sum(parts[name] for name in COMPONENTS[engine]) for engine in ENGINES}


def basic_income(income: BasicIncome) -> int:
    """Basic income RB = B_productive + B_residential + B_public + B_social (€/year)."""
    return sum(engine_bases(income).values())


def _exact_values(values: Mapping[K, float]) -> dict[K, int | Fraction]:
    """Integers stay integers, floats become the exact fraction they denote."""
    if not values:
        raise InvalidInput("at least one value is needed")
    exact: dict[K, int | Fraction] = {}
    for key, value in values.items():
        if not math.isfinite(value):
            raise InvalidInput(f"value for {key} is not a finite number", key=str(key))
        if value < 0:
            raise InvalidInput(f"value for {key} must not be negative (got {value})", key=str(key))
        exact[key] = value if isinstance(value, int) else Fraction(value)
    return exact


def _positive_total(exact: Mapping[K, int | Fraction]) -> int | Fraction:
    total: int | Fraction = sum(exact.values())
    if total == 0:
        raise UndefinedIndicator("shares are undefined when every value is zero")
    return total


def shares(values: Mapping[K, float]) -> dict[K, float]:
    """Share of each part in the whole: s_i = v_i / Σ v_j (dimensionless, Σ s_i = 1)."""
    exact = _exact_values(values)
    total = _positive_total(exact)
    # int / int is correctly rounded in Python, as is float(Fraction).
    return {key: float(value / total) for key, value in exact.items()}


def engine_shares(income: BasicIncome) -> dict[Engine, float]:
    """Share of each engine in the basic income: s_e = B_e / RB (dimensionless)."""
    return shares(engine_bases(income))


def basic_income_per_inhabitant(total_basic_income: int, population: int) -> float:
    """Basic income per inhabitant: RB / population (€ per inhabitant per year)."""
    if total_basic_income < 0:
        raise InvalidInput("basic income must not be negative")
    if population < 0:
        raise InvalidInput("population must not be negative")
    if population == 0:
        raise UndefinedIndicator("basic income per inhabitant is undefined for zero population")
    return total_basic_income / population


def _herfindahl_exact(values: Mapping[K, float]) -> Fraction:
    exact = _exact_values(values)
    total = _positive_total(exact)
    return Fraction(sum(value * value for value in exact.values())) / (total * total)


def _integer_sums(values: Mapping[K, float]) -> tuple[int, int] | None:
    """(Σ v, Σ v²) when every value is an int (after validation), else None.

    Integer ratios divided with ``/`` are correctly rounded, exactly like ``float(Fraction)``,
    so this fast path gives the same floats as the rational one, without gcd reductions.
    """
    exact = _exact_values(values)
    total = _positive_total(exact)
    if not isinstance(total, int) or not all(type(v) is int for v in exact.values()):
        return None
    return total, sum(value * value for value in exact.values())  # type: ignore[misc]


def herfindahl(values: Mapping[K, float]) -> float:
    """Herfindahl-Hirschman index H = Σ s_i², with s_i = v_i / Σ v_j; H ∈ [1/n, 1]."""
    sums = _integer_sums(values)
    if sums is not None:
        total, squares = sums
        return squares / (total * total)
    return float(_herfindahl_exact(values))


def normalised_herfindahl(values: Mapping[K, float]) -> float:
    """Normalised Herfindahl H* = (H − 1/n) / (1 − 1/n) ∈ [0, 1] over n parts.

    0 means all n parts are equal (balanced), 1 means a single part holds everything.
    With n = 1 the only part holds everything, so H* = 1.
    """
    sums = _integer_sums(values)
    n = len(values)
    if n == 1:
        return 1.0
    if sums is not None:
        # (Σv²/T² − 1/n) / (1 − 1/n) = (n·Σv² − T²) / ((n − 1)·T²), exact in integers.
        total, squares = sums
        return (n * squares - total * total) / ((n - 1) * total * total)
    h = _herfindahl_exact(values)
    floor = Fraction(1, n)
    return float((h - floor) / (1 - floor))


def shannon_entropy(values: Mapping[K, float], *, normalised: bool = False) -> float:
    """Shannon entropy E = −Σ s_i ln s_i in nats (0·ln 0 = 0); E ∈ [0, ln n].

    With ``normalised=True`` returns Pielou's evenness E / ln n ∈ [0, 1]: 1 for equal shares,
    0 when one part holds everything (and 0 when n = 1).
    """
    proportions = shares(values)
    entropy = max(0.0, -math.fsum(s * math.log(s) for s in proportions.values() if s > 0))
    if not normalised:
        return entropy
    n = len(proportions)
    if n == 1:
        return 0.0
    return min(1.0, entropy / math.log(n))


@dataclass(frozen=True, slots=True)
class EngineProfile:
    """Basic income of a territory split by engine, with its balance measures."""

    basic_income: int
    """RB, € per year."""
    bases: Mapping[Engine, int]
    """B_e per engine, € per year."""
    shares: Mapping[Engine, float]
    """s_e = B_e / RB."""
    basic_income_per_inhabitant: float
    """RB / population, € per inhabitant per year."""
    herfindahl: float
    """Σ s_e², in [0.25, 1]."""
    normalised_herfindahl: float
    """(H − 1/4) / (3/4), in [0, 1]; 0 balanced, 1 a single engine."""
    entropy: float
    """−Σ s_e ln s_e, nats, in [0, ln 4]."""
    normalised_entropy: float
    """entropy / ln 4, in [0, 1]; 1 balanced."""
    dominant_engine: Engine
    """Engine with the largest share (ties broken in the order of :data:`ENGINES`)."""


def engine_profile(income: BasicIncome, population: int) -> EngineProfile:
    """All engine indicators of one territory-year (raises UndefinedIndicator if RB = 0)."""
    bases = engine_bases(income)
    total = sum(bases.values())
    engine_share = shares(bases)
    dominant = max(ENGINES, key=lambda engine: (engine_share[engine], -ENGINES.index(engine)))
    return EngineProfile(
        basic_income=total,
        bases=MappingProxyType(bases),
        shares=MappingProxyType(engine_share),
        basic_income_per_inhabitant=basic_income_per_inhabitant(total, population),
        herfindahl=herfindahl(bases),
        normalised_herfindahl=normalised_herfindahl(bases),
        entropy=shannon_entropy(bases),
        normalised_entropy=shannon_entropy(bases, normalised=True),
        dominant_engine=dominant,
    )
