"""Response bodies of the indicators, peers, typology, roll-ups and reports."""

from __future__ import annotations

from pydantic import Field

from services.diagnostics.grants.schemas import InstrumentsSummary
from services.diagnostics.http.bodies import Schema
from services.diagnostics.incomes.schemas import ResidentialSection


class IndicatorRead(Schema):
    name: str
    value: float | None
    unit: str
    description: str
    label: str
    unit_label: str
    meaning: str
    flag: str | None
    flag_label: str | None
    percentile: float | None


class IndicatorsRead(Schema):
    territory: str
    year: int
    level: str | None
    source: str
    currency: str | None
    indicators: list[IndicatorRead]


class PeerRead(Schema):
    territory: str
    distance: float


class PeersRead(Schema):
    territory: str
    year: int
    level: str | None
    peers: list[PeerRead]
    percentiles: dict[str, float]


class TypologyRow(Schema):
    territory: str
    name: str
    level: str | None
    engine_shares: dict[str, float]
    rule_model: str
    rule: str
    explanation: str
    cluster: int
    cluster_model: str


class ClusterRead(Schema):
    cluster: int
    model: str
    mean_shares: dict[str, float]


class TypologyPage(Schema):
    year: int
    items: list[TypologyRow]
    next_cursor: str | None
    clusters: list[ClusterRead]
    agreement: float
    adjusted_rand_index: float
    disagreements: list[str]


class RollupRead(Schema):
    territory: str
    year: int
    members: list[str]
    population: int
    basic_income_eur: int
    engine_bases_eur: dict[str, int]
    engine_shares: dict[str, float] | None
    jobs_presentielle: int
    jobs_productive: int


class TypologyRead(Schema):
    model: str
    rule: str
    explanation: str
    quotients: dict[str, float]
    threshold: float


class FindingRead(Schema):
    kind: str
    rule: str
    indicator: str
    value: float
    threshold: float
    message: str
    levers: list[str]


class ReportPeer(Schema):
    territory: str
    distance: float
    name: str
    income_per_proximity_job: float | None
    basic_income_per_inhabitant: float | None


class LeverRead(Schema):
    lever: str
    text: str


class EngineChange(Schema):
    start: float
    end: float
    change: float


class SectorShiftRead(Schema):
    sector: str
    change: float
    reference_growth: float
    industry_mix: float
    competitive: float


class ShiftShareRead(Schema):
    change: float
    reference_growth: float
    industry_mix: float
    competitive: float
    sectors: list[SectorShiftRead]


class ComparisonRead(Schema):
    from_year: int
    to_year: int
    engine_shares: dict[str, EngineChange]
    shift_share: ShiftShareRead | None


class LocationQuotientRead(Schema):
    sector: str
    jobs: int
    quotient: float


class SpecialisationRead(Schema):
    territory: str
    year: int
    level: str | None
    reference: str
    secret_sectors: list[str]
    krugman: float | None
    location_quotients: list[LocationQuotientRead]
    flag: str | None


class ShiftShareBetween(Schema):
    territory: str
    from_year: int
    to_year: int
    shift_share: ShiftShareRead | None


class ReportRead(Schema):
    territory: str
    name: str
    year: int
    level: str | None
    population: int
    source: str
    geography: str
    synthetic: bool
    comparison: ComparisonRead | None
    engine_bases_eur: dict[str, int]
    engine_shares: dict[str, float] | None
    typology: TypologyRead | None
    indicators: list[IndicatorRead]
    peers: list[ReportPeer]
    strengths: list[FindingRead]
    fragilities: list[FindingRead]
    levers: list[LeverRead]
    instruments: InstrumentsSummary | None = Field(
        default=None, description="Loans and guarantees (a territory's; none for a perimeter)"
    )
    residential_base: list[ResidentialSection] = Field(
        default_factory=list,
        description="Filosofi's income shares, IRCOM's income tax and the tourist capacity "
        "(latest vintages), each with its source and geography lines",
    )
