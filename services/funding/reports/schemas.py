"""Bodies of progress reports and of the figures per programme and envelope."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import Field

from services.funding.http.fields import CentsOrZero, LongText, Schema


class ReportCreate(Schema):
    """A progress report: indicators of the project and its evaluation."""

    kind: Literal["intermediate", "final"]
    jobs_created: int = Field(ge=0, le=100_000)
    members: int = Field(ge=0, le=10_000_000)
    turnover_cents: CentsOrZero
    economic_evaluation: LongText | None = None
    social_evaluation: LongText | None = None
    environmental_evaluation: LongText | None = None


class ReportReview(Schema):
    decision: Literal["accepted", "rejected"]
    note: LongText | None = None


class ReportRead(Schema):
    id: uuid.UUID
    application_id: uuid.UUID
    kind: str
    number: int
    submitted_by: str
    jobs_created: int
    members: int
    turnover_cents: int
    economic_evaluation: str
    social_evaluation: str
    environmental_evaluation: str
    status: str
    reviewed_by: str | None
    review_note: str | None
    created_at: datetime


class TerritoryFigures(Schema):
    territory: str
    applications: int
    requested_cents: int
    granted_cents: int
    paid_cents: int


class EnvelopeFigures(Schema):
    envelope_id: uuid.UUID
    code: str
    year: int
    ap_cents: int
    cp_cents: int
    committed_cents: int
    ordered_cents: int
    paid_cents: int
    remaining_ap_cents: int
    remaining_cp_cents: int
    unpaid_commitments_cents: int


class Indicators(Schema):
    """Sums over the latest accepted report of each funded project."""

    projects_reporting: int
    jobs_created: int
    members: int
    turnover_cents: int


class ProgrammeReport(Schema):
    programme_code: str
    indicators: Indicators
    envelopes: list[EnvelopeFigures]
    committed_cents: int
    paid_cents: int
    remaining_ap_cents: int
    applications_by_state: dict[str, int]
    by_territory: list[TerritoryFigures]
