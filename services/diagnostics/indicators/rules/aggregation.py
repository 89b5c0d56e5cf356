"""How a territory of any level, or a perimeter, gets its figures from its communes.

Documented rules (the same for a département, an EPCI, a zone d'emploi, a région or a
CDDRA): stocks are summed (inhabitants, euros of each income component, jobs of each
sphere and sector); ratios are never averaged, they are recomputed from the summed stocks
by the same indicator code as a commune's; a figure unknown in one commune (a secret cell,
a consumption figure not published) makes the sum unknown, never zero. Where a figure was
imported for the territory itself (an official figure), it is used instead of the sum.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from services.diagnostics.indicators.rules.engines import COMPONENT_NAMES, BasicIncome
from services.diagnostics.indicators.rules.indicators import TerritoryYear


def _sum_known(values: Sequence[int | None]) -> int | None:
    """Σ of the values, unknown (None) as soon as one is."""
    total = 0
    for value in values:
        if value is None:
            return None
        total += value
    return total


def aggregate(
    code: str, name: str, year: int, members: Sequence[TerritoryYear]
) -> TerritoryYear | None:
    """The territory-year of ``code`` summed from its communes' (None without any)."""
    if not members:
        return None
    sectors: dict[str, int] = {}
    secret: set[str] = set()
    for member in members:
        secret |= member.secret_sectors
        for sector, jobs in member.sector_jobs.items():
            sectors[sector] = sectors.get(sector, 0) + jobs
    for sector in secret:
        sectors.pop(sector, None)
    return TerritoryYear(
        code=code,
        name=name,
        year=year,
        population=sum(m.population for m in members),
        income=BasicIncome(
            **{c: sum(getattr(m.income, c) for m in members) for c in COMPONENT_NAMES}
        ),
        jobs_presentielle=sum(m.jobs_presentielle for m in members),
        jobs_productive=sum(m.jobs_productive for m in members),
        consumption_potential=_sum_known([m.consumption_potential for m in members]),
        local_spending=_sum_known([m.local_spending for m in members]),
        sector_jobs=sectors,
        secret_sectors=frozenset(secret),
    )


def aggregate_all(
    year: int,
    communes: Mapping[str, TerritoryYear],
    members: Mapping[str, Sequence[str]],
    names: Mapping[str, str],
    own: Mapping[str, TerritoryYear],
    official_sectors: Mapping[str, Mapping[str, int | None]] | None = None,
) -> dict[str, TerritoryYear]:
    """Every territory of ``members`` (code → its communes) without its own figures,
    summed from those of its communes that have figures for the year; where jobs by
    sector were imported for the territory itself (INSEE's figure for the level, free of
    the communes' secret cells), those are used instead of the sum."""
    out: dict[str, TerritoryYear] = {}
    for code, communes_of in members.items():
        if code in own:
            continue
        present = [communes[c] for c in sorted(communes_of) if c in communes]
        summed = aggregate(code, names.get(code, code), year, present)
        if summed is None:
            continue
        official = (official_sectors or {}).get(code)
        if official:
            summed = replace(
                summed,
                sector_jobs={s: n for s, n in official.items() if n is not None},
                secret_sectors=frozenset(s for s, n in official.items() if n is None),
            )
        out[code] = summed
    return out
