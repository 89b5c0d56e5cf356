"""Routing: which local accompanist instructs an application, given where the project is.

Why: the reformed IDéclic Solidaire "territorialises the support and follow-up of projects
with qualified local accompanists" (seed, III.1). An application goes to someone who knows
its territory: an accompanist assigned to the commune itself beats one covering the whole
département, then the least loaded wins, and ties break on the id so the same inputs always
give the same assignment (replays and retries must not reshuffle files).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from services.funding.programmes.errors import InvalidEligibilityRulesError, NoAccompanistError
from services.funding.programmes.rules.territory import (
    TerritoryMatch,
    match_commune,
    validate_territories,
)


@dataclass(frozen=True, slots=True)
class Accompanist:
    """A local accompanist, the territory they cover and how many files they can hold."""

    accompanist_id: str
    territories: frozenset[str]
    programmes: frozenset[str] | None = None  # None: every programme
    capacity: int | None = None  # None: no limit on open files
    active: bool = True

    def __post_init__(self) -> None:
        validate_territories(self.territories)
        if self.capacity is not None and self.capacity < 0:
            raise InvalidEligibilityRulesError("capacity must be non-negative")


@dataclass(frozen=True, slots=True)
class Assignment:
    """The chosen accompanist and why."""

    accompanist_id: str
    matched_on: TerritoryMatch
    open_cases: int


def route(
    commune_insee_code: str,
    accompanists: Iterable[Accompanist],
    *,
    programme_id: str | None = None,
    open_cases: Mapping[str, int] | None = None,
) -> Assignment:
    """Pick the accompanist for a commune: most specific territory, then least loaded, then id."""
    load = open_cases or {}
    candidates: list[tuple[int, int, str, TerritoryMatch]] = []
    for person in accompanists:
        if not person.active:
            continue
        if programme_id is not None and person.programmes is not None:
            if programme_id not in person.programmes:
                continue
        matched = match_commune(person.territories, commune_insee_code)
        cases = load.get(person.accompanist_id, 0)
        if matched is None or (person.capacity is not None and cases >= person.capacity):
            continue
        candidates.append((-matched, cases, person.accompanist_id, matched))
    if not candidates:
        raise NoAccompanistError(
            f"no active accompanist with capacity covers {commune_insee_code}",
            commune_insee_code=commune_insee_code,
            programme_id=programme_id,
        )
    _, cases, accompanist_id, matched = min(candidates)
    return Assignment(accompanist_id=accompanist_id, matched_on=matched, open_cases=cases)
