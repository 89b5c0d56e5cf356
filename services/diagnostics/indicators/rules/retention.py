"""Commercial retention and leakage ("évasion commerciale") of residents' spending.

Inputs are whole euros per year:

* the *consumption potential* C: what resident households spend on retail goods and
  services wherever they buy them (surveys, or income × propensity to consume);
* the residents' *local spending* L: the part of C spent in the territory's own shops,
  markets and services (so 0 ≤ L ≤ C).

Seed II.2 lists fighting commercial leakage as a lever to "capter la richesse".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from services.diagnostics.errors import InvalidInput, UndefinedIndicator


@dataclass(frozen=True, slots=True)
class Retention:
    """Retention of residents' consumption potential in one territory (or one category)."""

    consumption_potential: int
    """C, € per year."""
    local_spending: int
    """L, € per year."""
    retention_rate: float
    """L / C, dimensionless in [0, 1]."""
    leakage_rate: float
    """(C − L) / C, dimensionless in [0, 1]; retention + leakage = 1."""
    leaked_amount: int
    """C − L, € per year spent outside the territory."""


def _check(consumption_potential: int, local_spending: int) -> None:
    if consumption_potential < 0 or local_spending < 0:
        raise InvalidInput("consumption potential and local spending must not be negative")
    if local_spending > consumption_potential:
        raise InvalidInput(
            "residents' local spending cannot exceed their consumption potential "
            f"({local_spending} > {consumption_potential})"
        )
    if consumption_potential == 0:
        raise UndefinedIndicator("retention is undefined with zero consumption potential")


def retention_rate(*, consumption_potential: int, local_spending: int) -> float:
    """Commercial retention rate r = L / C (dimensionless, in [0, 1])."""
    _check(consumption_potential, local_spending)
    return local_spending / consumption_potential


def leakage_rate(*, consumption_potential: int, local_spending: int) -> float:
    """Commercial leakage rate λ = (C − L) / C = 1 − r (dimensionless, in [0, 1])."""
    _check(consumption_potential, local_spending)
    return (consumption_potential - local_spending) / consumption_potential


def retention(*, consumption_potential: int, local_spending: int) -> Retention:
    """Retention rate, leakage rate and leaked amount in one value."""
    _check(consumption_potential, local_spending)
    return Retention(
        consumption_potential=consumption_potential,
        local_spending=local_spending,
        retention_rate=local_spending / consumption_potential,
        leakage_rate=(consumption_potential - local_spending) / consumption_potential,
        leaked_amount=consumption_potential - local_spending,
    )


def retention_by_category(
    potential: Mapping[str, int], local_spending: Mapping[str, int]
) -> dict[str, Retention]:
    """Retention per spending category (food, equipment, services…), same formulas.

    A category with local spending but no potential is refused; a category with zero
    potential is skipped (its rates are undefined).
    """
    unknown = sorted(set(local_spending) - set(potential))
    if unknown:
        raise InvalidInput(f"local spending for categories without potential: {unknown}")
    return {
        category: retention(
            consumption_potential=amount, local_spending=local_spending.get(category, 0)
        )
        for category, amount in sorted(potential.items())
        if amount > 0 or local_spending.get(category, 0) > 0
    }


def attraction_ratio(*, local_turnover: int, consumption_potential: int) -> float:
    """Commercial attraction T / C: local shops' turnover T over residents' potential C.

    Dimensionless; > 1 means the territory draws more spending from outside than its
    residents spend elsewhere (a commercial pole), < 1 a net leakage.
    """
    if local_turnover < 0 or consumption_potential < 0:
        raise InvalidInput("turnover and consumption potential must not be negative")
    if consumption_potential == 0:
        raise UndefinedIndicator("attraction is undefined with zero consumption potential")
    return local_turnover / consumption_potential
