"""Request and response bodies of the diagnostics API."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from services.diagnostics.api.common import Schema


class TerritoryRead(Schema):
    code: str
    level: str
    name: str
    parent_code: str | None


class TerritoryPage(Schema):
    items: list[TerritoryRead]
    next_cursor: str | None


class ImportRead(Schema):
    id: uuid.UUID
    kind: str
    status: str
    client_id: str
    rows_total: int
    rows_done: int
    report: dict[str, Any]
    created_at: datetime
    finished_at: datetime | None


class ImportPage(Schema):
    items: list[ImportRead]
    next_cursor: str | None


class PerimeterRead(Schema):
    kind: str
    code: str
    name: str
    valid_from: date
    valid_to: date | None
    communes: int


class PerimeterPage(Schema):
    items: list[PerimeterRead]
    next_cursor: str | None


class PerimeterDetail(Schema):
    kind: str
    code: str
    name: str
    valid_from: date
    valid_to: date | None
    communes: list[str]


class IndicatorRead(Schema):
    name: str
    value: float | None
    unit: str
    description: str
    flag: str | None
    percentile: float | None


class IndicatorsRead(Schema):
    territory: str
    year: int
    currency: str | None
    indicators: list[IndicatorRead]


class PeerRead(Schema):
    territory: str
    distance: float


class PeersRead(Schema):
    territory: str
    year: int
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


class DemoLoaded(Schema):
    territories: int
    territory_years: int
    sector_rows: int


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


class ReportRead(Schema):
    territory: str
    name: str
    year: int
    population: int
    source: str
    engine_bases_eur: dict[str, int]
    engine_shares: dict[str, float] | None
    typology: TypologyRead | None
    indicators: list[IndicatorRead]
    peers: list[ReportPeer]
    strengths: list[FindingRead]
    fragilities: list[FindingRead]
    levers: list[LeverRead]
