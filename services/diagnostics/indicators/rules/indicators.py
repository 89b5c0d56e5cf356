"""Every indicator of one territory-year, computed from its data in one call.

Build a :class:`TerritoryYear` per territory (from stored rows, or from validated import
rows with ``imports.rules.yearly_data.territory_year_from_row``), call
:func:`compute_indicators` for one territory or :func:`indicator_table` for all
territories of a year (to find peers and percentiles).
An indicator whose denominator is zero is kept with ``value=None`` and a ``flag`` saying
why, never an exception; invalid data (negative amounts, local spending above the
consumption potential) raises :class:`~.errors.InvalidInput`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from services.diagnostics.aggregates.rules.circulation import Circulation
from services.diagnostics.errors import InvalidInput, UndefinedIndicator
from services.diagnostics.indicators.rules import employment, retention
from services.diagnostics.indicators.rules.engines import (
    COMPONENT_NAMES,
    ENGINES,
    BasicIncome,
    Engine,
    basic_income_per_inhabitant,
    engine_bases,
    normalised_herfindahl,
    shannon_entropy,
    shares,
)
from services.diagnostics.indicators.rules.peers import IndicatorTable

_EMPTY: Mapping[str, int] = MappingProxyType({})


FIGURE_COLUMNS: tuple[str, ...] = (
    "population",
    *(f"{component}_eur" for component in COMPONENT_NAMES),
    "jobs_presentielle",
    "jobs_productive",
)
"""The whole, non-negative figures of a territory-year, by column name (stored and imported)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TerritoryYear:
    """Everything known about one territory for one year (euros, jobs, inhabitants)."""

    code: str
    name: str
    year: int
    population: int
    income: BasicIncome
    jobs_presentielle: int
    jobs_productive: int
    consumption_potential: int | None = None
    local_spending: int | None = None
    sector_jobs: Mapping[str, int] = field(default_factory=lambda: _EMPTY)
    secret_sectors: frozenset[str] = frozenset()
    """Sectors whose jobs are under statistical secrecy: unknown, neither zero nor absent."""

    def __post_init__(self) -> None:
        for name in _COUNTS:
            value = getattr(self, name) or 0
            if value < 0:
                raise InvalidInput(f"{name} must not be negative (got {value})", field=name)
        for sector, jobs in self.sector_jobs.items():
            if jobs < 0:
                name = f"sector_jobs[{sector}]"
                raise InvalidInput(f"{name} must not be negative (got {jobs})", field=name)


# The counts of a TerritoryYear that may not be negative (None reads as 0).
_COUNTS = (
    "population",
    "jobs_presentielle",
    "jobs_productive",
    "consumption_potential",
    "local_spending",
)


@dataclass(frozen=True, slots=True)
class IndicatorSpec:
    """What an indicator measures, in which unit."""

    unit: str
    description: str


INDICATORS: Mapping[str, IndicatorSpec] = MappingProxyType(
    {
        "basic_income": IndicatorSpec("€/year", "basic income RB = Σ engine bases"),
        "basic_income_per_inhabitant": IndicatorSpec("€/inhabitant/year", "RB / population"),
        "share_productive": IndicatorSpec("ratio", "productive base / RB"),
        "share_residential": IndicatorSpec("ratio", "residential base / RB"),
        "share_public": IndicatorSpec("ratio", "public base / RB"),
        "share_social": IndicatorSpec("ratio", "social base / RB"),
        "engine_concentration": IndicatorSpec("0–1", "normalised Herfindahl of engine shares"),
        "engine_evenness": IndicatorSpec("0–1", "Shannon entropy of engine shares / ln 4"),
        "income_per_proximity_job": IndicatorSpec("€/job", "RB / présentielle jobs"),
        "proximity_jobs_per_million": IndicatorSpec("jobs/M€", "présentielle jobs per M€ of RB"),
        "presentielle_share": IndicatorSpec("ratio", "présentielle jobs / all jobs"),
        "base_multiplier_jobs": IndicatorSpec("ratio", "all jobs / productive-sphere jobs"),
        "sector_concentration": IndicatorSpec("0–1", "Herfindahl of jobs by sector"),
        "krugman_specialisation": IndicatorSpec("0–2", "Σ |sector share − reference share|"),
        "retention_rate": IndicatorSpec("ratio", "residents' local spending / potential"),
        "leakage_rate": IndicatorSpec("ratio", "1 − retention rate"),
        "currency_velocity": IndicatorSpec("per period", "local payments / mean units held"),
        "currency_local_respend": IndicatorSpec("ratio", "payments inside T / outflow"),
        "currency_reconversion_leakage": IndicatorSpec("ratio", "reconversion / outflow"),
        "currency_lm3": IndicatorSpec("ratio", "(R1 + R2 + R3) / R1"),
    }
)
"""Every indicator of a report, in report order."""


@dataclass(frozen=True, slots=True)
class Indicator:
    """One indicator value; ``value`` is None when undefined, with the reason in ``flag``."""

    name: str
    value: float | None
    flag: str | None = None


def _measure(name: str, compute: Callable[..., float], *args: Any, **kwargs: Any) -> Indicator:
    # Arguments rather than a lambda: no closure allocated per indicator per territory.
    try:
        return Indicator(name, compute(*args, **kwargs))
    except UndefinedIndicator as undefined:
        return Indicator(name, None, undefined.detail)


def _missing(name: str, reason: str) -> Indicator:
    return Indicator(name, None, reason)


SHARE_INDICATORS: Mapping[Engine, str] = MappingProxyType(
    {engine: f"share_{engine.value}" for engine in ENGINES}
)
"""Name of each engine's share indicator (spelled once: enum ``.value`` is a slow property)."""

_BALANCE_NAMES = (
    *SHARE_INDICATORS.values(),
    "engine_concentration",
    "engine_evenness",
)


def _engine_indicators(t: TerritoryYear, bases: Mapping[Engine, int]) -> list[Indicator]:
    rb = sum(bases.values())
    out = [
        Indicator("basic_income", float(rb)),
        _measure("basic_income_per_inhabitant", basic_income_per_inhabitant, rb, t.population),
    ]
    if rb == 0:
        reason = "engine shares are undefined with zero basic income"
        return [*out, *(_missing(name, reason) for name in _BALANCE_NAMES)]
    engine_share = shares(bases)
    return [
        *out,
        *(Indicator(name, engine_share[e]) for e, name in SHARE_INDICATORS.items()),
        Indicator("engine_concentration", normalised_herfindahl(bases)),
        Indicator("engine_evenness", shannon_entropy(bases, normalised=True)),
    ]


def _employment_indicators(
    t: TerritoryYear, rb: int, reference_sectors: Mapping[str, int] | None
) -> list[Indicator]:
    pres, prod = t.jobs_presentielle, t.jobs_productive
    out = [
        _measure("income_per_proximity_job", employment.income_per_proximity_job, rb, pres),
        _measure("proximity_jobs_per_million", employment.proximity_jobs_per_million, rb, pres),
        _measure(
            "presentielle_share",
            employment.presentielle_share,
            presentielle_jobs=pres,
            productive_jobs=prod,
        ),
        _measure("base_multiplier_jobs", employment.base_multiplier_jobs, pres + prod, prod),
    ]
    sectors = t.sector_jobs
    if not sectors or t.secret_sectors:
        reason = (
            f"secret cells in sectors {', '.join(sorted(t.secret_sectors))}"
            if t.secret_sectors
            else "no employment by sector"
        )
        return [
            *out,
            _missing("sector_concentration", reason),
            _missing("krugman_specialisation", reason),
        ]
    out.append(_measure("sector_concentration", employment.sector_hhi, sectors))
    if reference_sectors:
        out.append(
            _measure("krugman_specialisation", employment.krugman_index, sectors, reference_sectors)
        )
    else:
        out.append(_missing("krugman_specialisation", "no reference employment by sector"))
    return out


def _retention_indicators(t: TerritoryYear) -> list[Indicator]:
    if t.consumption_potential is None or t.local_spending is None:
        return [_missing(n, "no consumption data") for n in ("retention_rate", "leakage_rate")]
    potential, spending = t.consumption_potential, t.local_spending
    return [
        _measure(
            "retention_rate",
            retention.retention_rate,
            consumption_potential=potential,
            local_spending=spending,
        ),
        _measure(
            "leakage_rate",
            retention.leakage_rate,
            consumption_potential=potential,
            local_spending=spending,
        ),
    ]


def compute_indicators(
    territory: TerritoryYear,
    *,
    reference_sectors: Mapping[str, int] | None = None,
    circulation: Circulation | None = None,
) -> dict[str, Indicator]:
    """Compute every indicator of :data:`INDICATORS` for one territory-year, in that order.

    Invalid data (a negative amount, local spending above potential) raises InvalidInput;
    a zero denominator gives an :class:`Indicator` with ``value=None`` and a ``flag``.
    """
    bases = engine_bases(territory.income)
    computed = [
        *_engine_indicators(territory, bases),
        *_employment_indicators(territory, sum(bases.values()), reference_sectors),
        *_retention_indicators(territory),
        *_currency_indicators(circulation),
    ]
    by_name = {indicator.name: indicator for indicator in computed}
    return {name: by_name[name] for name in INDICATORS}


_CURRENCY_NAMES = (
    "currency_velocity",
    "currency_local_respend",
    "currency_reconversion_leakage",
    "currency_lm3",
)
_NO_CURRENCY = tuple(_missing(name, "no local currency data") for name in _CURRENCY_NAMES)
"""Most territories have no local currency: Indicator is immutable, so share one set."""


def _currency_indicators(
    circulation: Circulation | None,
) -> list[Indicator] | tuple[Indicator, ...]:
    names = _CURRENCY_NAMES
    if circulation is None:
        return _NO_CURRENCY
    c = circulation
    velocity = (
        Indicator(names[0], c.velocity)
        if c.velocity is not None
        else _missing(names[0], "no units in circulation")
    )
    return [
        velocity,
        _measure(names[1], lambda: c.flows.local_respend_share),
        _measure(names[2], lambda: c.flows.reconversion_leakage),
        _measure(names[3], lambda: c.multiplier.lm3),
    ]


def table_from_indicators(computed: Mapping[str, Mapping[str, Indicator]]) -> IndicatorTable:
    """Index already computed indicators (territory code → name → Indicator)."""
    return IndicatorTable(
        {
            code: {name: indicator.value for name, indicator in indicators.items()}
            for code, indicators in computed.items()
        }
    )


def indicator_table(
    territories: Iterable[TerritoryYear],
    *,
    reference_sectors: Mapping[str, int] | None = None,
    circulation: Mapping[str, Circulation] | None = None,
) -> IndicatorTable:
    """Index the indicators of many territories (one year) for peers and percentiles."""
    circulation = circulation or {}
    return table_from_indicators(
        {
            t.code: compute_indicators(
                t, reference_sectors=reference_sectors, circulation=circulation.get(t.code)
            )
            for t in territories
        }
    )
