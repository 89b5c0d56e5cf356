"""Employment indicators: proximity jobs, base multipliers, specialisation, shift-share.

Units: amounts in whole euros per year, jobs as head counts (``int``). INSEE splits jobs
into the *présentielle* sphere (serving people present in the territory: the proximity
economy) and the *productive* sphere (goods and services mostly sold outside it).

Sector mappings (``Mapping[str, int]``) are keyed by any sector code (NAF section, A17,
a custom grouping); a sector missing from a mapping counts as zero jobs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

from services.diagnostics.errors import InvalidInput, UndefinedIndicator
from services.diagnostics.indicators.rules.engines import herfindahl, normalised_herfindahl


def _non_negative(name: str, value: float) -> None:
    if value < 0:
        raise InvalidInput(f"{name} must not be negative (got {value})", field=name)


def income_per_proximity_job(basic_income: int, proximity_jobs: int) -> float:
    """Basic income per proximity job: RB / E_pres (€ per présentielle job per year).

    The 2012 regional study found about 80,000 € in one employment zone and more than
    170,000 € in another: the lower the value, the more local jobs each euro sustains.
    """
    _non_negative("basic_income", basic_income)
    _non_negative("proximity_jobs", proximity_jobs)
    if proximity_jobs == 0:
        raise UndefinedIndicator("income per proximity job is undefined with zero such jobs")
    return basic_income / proximity_jobs


def proximity_jobs_per_million(basic_income: int, proximity_jobs: int) -> float:
    """Proximity jobs per million euros of basic income: E_pres / (RB / 10⁶) (jobs per M€)."""
    _non_negative("basic_income", basic_income)
    _non_negative("proximity_jobs", proximity_jobs)
    if basic_income == 0:
        raise UndefinedIndicator("jobs per M€ is undefined with zero basic income")
    return proximity_jobs * 1_000_000 / basic_income


def presentielle_share(*, presentielle_jobs: int, productive_jobs: int) -> float:
    """Share of présentielle jobs in all jobs: E_pres / (E_pres + E_prod) (dimensionless)."""
    _non_negative("presentielle_jobs", presentielle_jobs)
    _non_negative("productive_jobs", productive_jobs)
    total = presentielle_jobs + productive_jobs
    if total == 0:
        raise UndefinedIndicator("présentielle share is undefined for a territory with no jobs")
    return presentielle_jobs / total


def base_multiplier_jobs(total_jobs: int, basic_jobs: int) -> float:
    """Employment base multiplier k = E / E_basic (jobs per basic job, ≥ 1 when E ≥ E_basic).

    With INSEE spheres, E_basic is usually the productive-sphere jobs and E all jobs.
    """
    _non_negative("total_jobs", total_jobs)
    _non_negative("basic_jobs", basic_jobs)
    if basic_jobs > total_jobs:
        raise InvalidInput("basic jobs cannot exceed total jobs")
    if basic_jobs == 0:
        raise UndefinedIndicator("the base multiplier is undefined with zero basic jobs")
    return total_jobs / basic_jobs


def base_multiplier_income(total_income: float, basic_income: float) -> float:
    """Income base multiplier k_Y = Y / RB (€ of local income per € of basic income)."""
    _non_negative("total_income", total_income)
    _non_negative("basic_income", basic_income)
    if basic_income == 0:
        raise UndefinedIndicator("the income multiplier is undefined with zero basic income")
    return total_income / basic_income


def multiplier_from_local_propensity(propensity: float) -> float:
    """Keynesian base multiplier k_Y = 1 / (1 − p), p = share of income re-spent locally.

    p ∈ [0, 1); p is dimensionless (e.g. retention rate × local value-added share).
    """
    if not 0 <= propensity < 1:
        raise InvalidInput(f"local propensity must be in [0, 1) (got {propensity})")
    return 1 / (1 - propensity)


def _totals(local: Mapping[str, int], reference: Mapping[str, int]) -> tuple[int, int]:
    for name, table in (("local", local), ("reference", reference)):
        for sector, jobs in table.items():
            if jobs < 0:  # the field name is only formatted for the error
                _non_negative(f"{name} jobs in {sector}", jobs)
    for sector, jobs in local.items():
        if jobs > 0 and reference.get(sector, 0) == 0:
            raise InvalidInput(
                f"sector {sector} has local jobs but none in the reference", sector=sector
            )
    local_total, reference_total = sum(local.values()), sum(reference.values())
    if local_total == 0 or reference_total == 0:
        raise UndefinedIndicator("specialisation is undefined when a territory has no jobs")
    return local_total, reference_total


def location_quotients(local: Mapping[str, int], reference: Mapping[str, int]) -> dict[str, float]:
    """Location quotient per sector: LQ_i = (e_i / E) / (N_i / N) (dimensionless).

    e_i local jobs in sector i, E all local jobs, N_i and N the same for the reference
    (region or nation). LQ > 1: the territory is specialised in i. Returned for every
    sector with reference jobs; Σ_i (N_i / N) · LQ_i = 1.
    """
    local_total, reference_total = _totals(local, reference)
    return {
        sector: (local.get(sector, 0) * reference_total) / (reference_jobs * local_total)
        for sector, reference_jobs in reference.items()
        if reference_jobs > 0
    }


def krugman_index(local: Mapping[str, int], reference: Mapping[str, int]) -> float:
    """Krugman specialisation index K = Σ_i |e_i / E − N_i / N| ∈ [0, 2] (dimensionless).

    0: same sector mix as the reference; 2: no sector in common.
    """
    local_total, reference_total = _totals(local, reference)
    # Σ |e_i/E − N_i/N| = Σ |e_i·N − N_i·E| / (E·N), exact in integers.
    gap = sum(
        abs(local.get(s, 0) * reference_total - reference.get(s, 0) * local_total)
        for s in set(local) | set(reference)
    )
    return gap / (local_total * reference_total)


def sector_hhi(employment: Mapping[str, int], *, normalised: bool = False) -> float:
    """Sector concentration of jobs H = Σ_i (e_i / E)² ∈ [1/n, 1], or (H − 1/n)/(1 − 1/n)."""
    return normalised_herfindahl(employment) if normalised else herfindahl(employment)


@dataclass(frozen=True, slots=True)
class SectorShift:
    """Shift-share decomposition of one sector's job change (jobs, exact fractions)."""

    sector: str
    change: Fraction
    """e_i1 − e_i0."""
    reference_growth: Fraction
    """e_i0 · G: what the sector would have gained growing like the whole reference."""
    industry_mix: Fraction
    """e_i0 · (g_i − G): extra growth of the sector in the reference."""
    competitive: Fraction
    """(e_i1 − e_i0) − e_i0 · g_i: the local sector's own performance."""


@dataclass(frozen=True, slots=True)
class ShiftShare:
    """Shift-share decomposition of a territory's job change between two years."""

    sectors: tuple[SectorShift, ...]
    change: Fraction
    reference_growth: Fraction
    industry_mix: Fraction
    competitive: Fraction


def shift_share(
    *,
    local_start: Mapping[str, int],
    local_end: Mapping[str, int],
    reference_start: Mapping[str, int],
    reference_end: Mapping[str, int],
) -> ShiftShare:
    """Decompose the job change Δe = Σ_i (e_i1 − e_i0) into three effects (jobs).

    With G = N1/N0 − 1 the reference's overall growth and g_i = N_i1/N_i0 − 1 sector i's
    growth in the reference (region or nation):

    * reference growth  RS_i = e_i0 · G
    * industry mix      IM_i = e_i0 · (g_i − G)
    * competitive       CE_i = (e_i1 − e_i0) − e_i0 · g_i

    so RS_i + IM_i + CE_i = e_i1 − e_i0 exactly (rational arithmetic, no rounding). A sector
    new to the territory (e_i0 = 0) puts its whole change in the competitive effect.
    """
    sectors = sorted(set(local_start) | set(local_end) | set(reference_start) | set(reference_end))
    for name, table in (
        ("local_start", local_start),
        ("local_end", local_end),
        ("reference_start", reference_start),
        ("reference_end", reference_end),
    ):
        for sector, jobs in table.items():
            if jobs < 0:
                _non_negative(f"{name}[{sector}]", jobs)
    reference_total_start = sum(reference_start.values())
    if reference_total_start == 0:
        raise UndefinedIndicator("shift-share is undefined when the reference starts with no jobs")
    overall = Fraction(sum(reference_end.values()), reference_total_start) - 1
    rows: list[SectorShift] = []
    for sector in sectors:
        e0, e1 = local_start.get(sector, 0), local_end.get(sector, 0)
        n0, n1 = reference_start.get(sector, 0), reference_end.get(sector, 0)
        if e0 > 0 and n0 == 0:
            raise InvalidInput(
                f"sector {sector} has local jobs in the first year but none in the reference",
                sector=sector,
            )
        sector_growth = Fraction(n1, n0) - 1 if n0 > 0 else Fraction(0)
        change = Fraction(e1 - e0)
        rows.append(
            SectorShift(
                sector=sector,
                change=change,
                reference_growth=e0 * overall,
                industry_mix=e0 * (sector_growth - overall),
                competitive=change - e0 * sector_growth,
            )
        )
    return ShiftShare(
        sectors=tuple(rows),
        change=sum((r.change for r in rows), Fraction(0)),
        reference_growth=sum((r.reference_growth for r in rows), Fraction(0)),
        industry_mix=sum((r.industry_mix for r in rows), Fraction(0)),
        competitive=sum((r.competitive for r in rows), Fraction(0)),
    )
