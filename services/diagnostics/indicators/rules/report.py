"""Assemble the diagnostic report of one territory-year as plain dataclasses.

Flow: :func:`~.indicators.indicator_table` once for all territories of a year, then
:func:`build_report` per territory. The report holds every indicator with its unit and
percentile, the engine shares, the typology, the nearest peers, and the strengths and
fragilities found by the explicit rules of :class:`ReportThresholds`; each fragility
points to levers quoted from seed II.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from services.diagnostics.aggregates.rules.circulation import Circulation
from services.diagnostics.indicators.rules.engines import Engine, engine_bases
from services.diagnostics.indicators.rules.indicators import (
    INDICATORS,
    SHARE_INDICATORS,
    Indicator,
    TerritoryYear,
    compute_indicators,
)
from services.diagnostics.indicators.rules.labels import ENGINE_LABELS
from services.diagnostics.indicators.rules.peers import IndicatorTable, Peer
from services.diagnostics.indicators.rules.typology import (
    DEFAULT_RULES,
    Classification,
    Model,
    TypologyRules,
    classify,
)

ENGINE_NAMES = {e: label.lower() for e, label in ENGINE_LABELS.items()}


class Lever(StrEnum):
    """Levers of seed II.2 (and II.1 for rebalancing) a fragility points to."""

    NEED_DETECTION = "need-detection"
    CAPTURE_AND_REDISTRIBUTION = "capture-and-redistribution"
    SECTOR_COORDINATION = "sector-coordination"
    ENGINE_REBALANCING = "engine-rebalancing"


LEVER_TEXT: Mapping[Lever, str] = MappingProxyType(
    {
        Lever.NEED_DETECTION: (
            "Agir davantage sur la détection des besoins, en repartant de l'analyse des besoins "
            "et potentiels d'activité du territoire."
        ),
        Lever.CAPTURE_AND_REDISTRIBUTION: (
            "Agir sur le potentiel à capter de la richesse, à la redistribuer et à la "
            "transformer en emplois de proximité."
        ),
        Lever.SECTOR_COORDINATION: (
            "Mieux coordonner les approches filières et sectorielles et les approches "
            "territoriales."
        ),
        Lever.ENGINE_REBALANCING: (
            "Contribuer au rééquilibrage des différents moteurs du développement."
        ),
    }
)


class FindingKind(StrEnum):
    """Whether a finding is a strength or a fragility of the territory."""

    STRENGTH = "strength"
    FRAGILITY = "fragility"


@dataclass(frozen=True, slots=True)
class ReportThresholds:
    """Thresholds of the strength/fragility rules (defaults bracket the seed's figures)."""

    dependence_share: float = 0.5
    """Fragility when one engine brings at least this share of the basic income."""
    weak_productive_share: float = 0.15
    """Fragility when the productive base is below this share."""
    weak_conversion_eur_per_job: float = 130_000
    """Fragility at or above this RB per proximity job (seed: "plus de 170 000 €")."""
    strong_conversion_eur_per_job: float = 90_000
    """Strength at or below this RB per proximity job (seed: "80 000 €")."""
    high_leakage: float = 0.30
    """Fragility when at least this share of consumption is spent outside."""
    high_retention: float = 0.80
    """Strength when at least this share of consumption is spent locally."""
    high_reconversion_leakage: float = 0.30
    """Fragility when this share of local currency outflow is reconverted to euros."""
    strong_lm3: float = 2.0
    """Strength when the local currency's LM3 reaches this value."""


DEFAULT_THRESHOLDS = ReportThresholds()


@dataclass(frozen=True, slots=True)
class Finding:
    """One strength or fragility, the rule that produced it and the levers it suggests."""

    kind: FindingKind
    rule: str
    indicator: str
    value: float
    threshold: float
    message: str
    levers: tuple[Lever, ...] = ()


@dataclass(frozen=True, slots=True)
class IndicatorReading:
    """An indicator as shown in a report, with its unit and percentile among territories."""

    name: str
    value: float | None
    unit: str
    description: str
    flag: str | None
    percentile: float | None


@dataclass(frozen=True, slots=True)
class DiagnosticReport:
    """The diagnostic of one territory-year."""

    code: str
    name: str
    year: int
    population: int
    engine_bases: Mapping[Engine, int]
    engine_shares: Mapping[Engine, float] | None
    """None when the basic income is zero."""
    typology: Classification | None
    indicators: tuple[IndicatorReading, ...]
    peers: tuple[Peer, ...]
    strengths: tuple[Finding, ...]
    fragilities: tuple[Finding, ...]
    levers: tuple[Lever, ...]
    """Levers suggested by the fragilities, in :class:`Lever` order, without repeats."""


PEER_INDICATORS: tuple[str, ...] = (
    "basic_income_per_inhabitant",
    "share_productive",
    "share_residential",
    "share_public",
    "share_social",
    "income_per_proximity_job",
    "presentielle_share",
)
"""Structural indicators used to find peers (size and sparse currency data left out)."""


@dataclass(frozen=True, slots=True)
class _Rule:
    rule: str
    kind: FindingKind
    indicator: str
    comparison: str  # ">=", "<=" or "<"
    threshold: Callable[[ReportThresholds], float]
    message: str  # formatted with {value} and {threshold}
    levers: tuple[Lever, ...] = ()

    def fires(self, value: float, threshold: float) -> bool:
        return _COMPARISONS[self.comparison](value, threshold)


_COMPARISONS: Mapping[str, Callable[[float, float], bool]] = MappingProxyType(
    {">=": operator.ge, "<=": operator.le, "<": operator.lt}
)


_RULES: tuple[_Rule, ...] = (
    *(
        _Rule(
            f"dependence-on-{engine.value}",
            FindingKind.FRAGILITY,
            f"share_{engine.value}",
            ">=",
            lambda th: th.dependence_share,
            f"forte dépendance au {ENGINE_NAMES[engine.value]} : {{value:.0%}} du revenu "
            "basique (seuil ≥ {threshold:.0%})",
            (Lever.ENGINE_REBALANCING, Lever.SECTOR_COORDINATION),
        )
        for engine in Engine
    ),
    _Rule(
        "weak-productive-base",
        FindingKind.FRAGILITY,
        "share_productive",
        "<",
        lambda th: th.weak_productive_share,
        "base productive faible : {value:.0%} du revenu basique (seuil < {threshold:.0%})",
        (Lever.NEED_DETECTION, Lever.SECTOR_COORDINATION),
    ),
    _Rule(
        "weak-income-conversion",
        FindingKind.FRAGILITY,
        "income_per_proximity_job",
        ">=",
        lambda th: th.weak_conversion_eur_per_job,
        "revenu peu transformé en emplois de proximité : {value:,.0f} € par emploi "
        "(seuil ≥ {threshold:,.0f} €)",
        (Lever.CAPTURE_AND_REDISTRIBUTION, Lever.NEED_DETECTION),
    ),
    _Rule(
        "strong-income-conversion",
        FindingKind.STRENGTH,
        "income_per_proximity_job",
        "<=",
        lambda th: th.strong_conversion_eur_per_job,
        "revenu bien transformé en emplois de proximité : {value:,.0f} € par emploi "
        "(seuil ≤ {threshold:,.0f} €)",
    ),
    _Rule(
        "high-commercial-leakage",
        FindingKind.FRAGILITY,
        "leakage_rate",
        ">=",
        lambda th: th.high_leakage,
        "forte évasion commerciale : {value:.0%} de la consommation dépensée ailleurs "
        "(seuil ≥ {threshold:.0%})",
        (Lever.CAPTURE_AND_REDISTRIBUTION,),
    ),
    _Rule(
        "high-commercial-retention",
        FindingKind.STRENGTH,
        "retention_rate",
        ">=",
        lambda th: th.high_retention,
        "forte rétention commerciale : {value:.0%} de la consommation dépensée sur place "
        "(seuil ≥ {threshold:.0%})",
    ),
    _Rule(
        "high-reconversion-leakage",
        FindingKind.FRAGILITY,
        "currency_reconversion_leakage",
        ">=",
        lambda th: th.high_reconversion_leakage,
        "la monnaie locale fuit par reconversion : {value:.0%} des sorties "
        "(seuil ≥ {threshold:.0%})",
        (Lever.CAPTURE_AND_REDISTRIBUTION,),
    ),
    _Rule(
        "strong-local-multiplier",
        FindingKind.STRENGTH,
        "currency_lm3",
        ">=",
        lambda th: th.strong_lm3,
        "multiplicateur local LM3 = {value:.2f} (seuil ≥ {threshold:.2f})",
    ),
)


def findings(
    indicators: Mapping[str, Indicator],
    typology: Classification | None,
    thresholds: ReportThresholds = DEFAULT_THRESHOLDS,
) -> list[Finding]:
    """Apply the rules in order; undefined indicators never fire a rule.

    Rules: a balanced typology is a strength; one engine ≥ 50 % of RB, a productive share
    < 15 %, ≥ 130,000 € of RB per proximity job, ≥ 30 % commercial leakage, ≥ 30 % of local
    currency outflow reconverted are fragilities; ≤ 90,000 € per proximity job, ≥ 80 %
    retention and LM3 ≥ 2 are strengths (defaults of :class:`ReportThresholds`).
    """
    found: list[Finding] = []
    if typology is not None and typology.model is Model.BALANCED:
        found.append(
            Finding(
                FindingKind.STRENGTH,
                "balanced-engines",
                "typology",
                max(typology.quotients.values()),
                typology.threshold,
                "combinaison équilibrée des moteurs : aucun moteur ne dépasse "
                f"{typology.threshold:.2f} fois son poids de référence",
                (),
            )
        )
    for rule in _RULES:
        value = indicators[rule.indicator].value
        if value is None:
            continue
        threshold = rule.threshold(thresholds)
        if rule.fires(value, threshold):
            message = rule.message.format(value=value, threshold=threshold)
            found.append(
                Finding(
                    rule.kind, rule.rule, rule.indicator, value, threshold, message, rule.levers
                )
            )
    return found


def _readings(
    code: str, indicators: Mapping[str, Indicator], table: IndicatorTable | None
) -> tuple[IndicatorReading, ...]:
    # One look-up of the territory's ranks (the table ranks every column once for all
    # territories); an indicator the table lacks, such as currency figures, has none.
    ranks = table.percentile_map(code) if table is not None and code in table else {}
    return tuple(
        IndicatorReading(
            name,
            indicator.value,
            *_SPECS[name],
            indicator.flag,
            ranks.get(name) if indicator.value is not None else None,
        )
        for name, indicator in indicators.items()
    )


_SPECS: Mapping[str, tuple[str, str]] = MappingProxyType(
    {name: (spec.unit, spec.description) for name, spec in INDICATORS.items()}
)
"""(unit, description) of every indicator, unpacked straight into each reading."""


def build_report(
    territory: TerritoryYear,
    *,
    table: IndicatorTable | None = None,
    reference_sectors: Mapping[str, int] | None = None,
    circulation: Circulation | None = None,
    typology_rules: TypologyRules = DEFAULT_RULES,
    thresholds: ReportThresholds = DEFAULT_THRESHOLDS,
    n_peers: int = 5,
    indicators: Mapping[str, Indicator] | None = None,
) -> DiagnosticReport:
    """The full diagnostic of one territory-year.

    ``table`` (from :func:`indicator_table` over the territories of the same year, this
    one included) gives percentiles and the ``n_peers`` nearest peers on
    :data:`PEER_INDICATORS`; without it both are left empty. Pass ``indicators`` when
    they were already computed for the table (``reference_sectors`` and ``circulation``
    are then ignored).
    """
    if indicators is None:
        indicators = compute_indicators(
            territory, reference_sectors=reference_sectors, circulation=circulation
        )
    shares = {e: indicators[name].value for e, name in SHARE_INDICATORS.items()}
    engine_share = {e: v for e, v in shares.items() if v is not None}
    typology = classify(engine_share, typology_rules) if len(engine_share) == len(shares) else None
    peers: tuple[Peer, ...] = ()
    if table is not None and territory.code in table:
        peers = tuple(table.nearest_peers(territory.code, k=n_peers, indicators=PEER_INDICATORS))
    found = findings(indicators, typology, thresholds)
    fragilities = tuple(f for f in found if f.kind is FindingKind.FRAGILITY)
    suggested = {lever for f in fragilities for lever in f.levers}
    return DiagnosticReport(
        code=territory.code,
        name=territory.name,
        year=territory.year,
        population=territory.population,
        engine_bases=MappingProxyType(engine_bases(territory.income)),
        engine_shares=MappingProxyType(engine_share) if typology is not None else None,
        typology=typology,
        indicators=_readings(territory.code, indicators, table),
        peers=peers,
        strengths=tuple(f for f in found if f.kind is FindingKind.STRENGTH),
        fragilities=fragilities,
        levers=tuple(lever for lever in Lever if lever in suggested),
    )
