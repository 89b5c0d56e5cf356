"""Bodies of the programme catalogue: programmes, envelopes, calls, accompanists."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import Field

from services.funding.http.fields import (
    Cents,
    CentsOrZero,
    Code,
    EnvelopeCode,
    Identifier,
    LongText,
    Moment,
    Name,
    Schema,
    TerritoryCode,
)
from services.funding.programmes.rules.eligibility import LegalForm, ProjectStage


class ProgrammeCreate(Schema):
    code: Code
    name: Name
    operator: Name
    eligible_territories: list[TerritoryCode] = Field(min_length=1, max_length=500)
    legal_forms: list[LegalForm] = Field(min_length=1, max_length=20)
    project_stages: list[ProjectStage] = Field(min_length=1, max_length=10)
    convention_threshold_cents: Cents = 2_300_000
    advance_percent: int = Field(default=0, ge=0, le=99)
    intermediate_percents: list[Annotated[int, Field(ge=1, le=99)]] = Field(
        default_factory=list, max_length=5, description="One tranche per accepted report"
    )
    revolving: bool = Field(
        default=False,
        description="A revolving fund: loan repayments and guarantee recoveries received "
        "may be committed and paid again, on top of AP and CP",
    )


class ProgrammeRead(Schema):
    id: uuid.UUID
    code: str
    name: str
    operator: str
    eligible_territories: list[str]
    legal_forms: list[str]
    project_stages: list[str]
    convention_threshold_cents: int
    advance_percent: int
    intermediate_percents: list[int]
    revolving: bool
    created_at: datetime


class EnvelopeCreate(Schema):
    code: EnvelopeCode
    year: int = Field(ge=2000, le=2100)
    ap_cents: CentsOrZero
    cp_cents: CentsOrZero


class EnvelopeResize(Schema):
    ap_cents: CentsOrZero
    cp_cents: CentsOrZero


class EnvelopeDelegate(Schema):
    """Delegate the envelope to a territorial partner (a CDDRA, a PNR) for its territories."""

    delegated_to: Name
    territories: list[TerritoryCode] = Field(min_length=1, max_length=500)


class EnvelopeRead(Schema):
    id: uuid.UUID
    code: str
    programme_id: uuid.UUID
    year: int
    ap_cents: int
    cp_cents: int
    committed_cents: int
    ordered_cents: int
    paid_cents: int
    expected_repayments_cents: int = Field(
        description="What the loans decided on this envelope are to repay (first schedules)"
    )
    repaid_cents: int = Field(description="Loan repayments received")
    recovered_cents: int = Field(description="Recovered after guarantee calls")
    losses_cents: int = Field(
        description="Written-off loans' balances and guarantee calls net of recoveries"
    )
    relendable_cents: int = Field(
        description="Revolving programmes: what came back, which AP and CP may use again"
    )
    delegated_to: str | None
    delegated_territories: list[str] | None
    created_at: datetime


class CallCreate(Schema):
    title: Name
    opens_at: Moment
    closes_at: Moment
    criteria: LongText | None = None
    required_documents: list[Name] = Field(default_factory=list, max_length=50)


class CallRead(Schema):
    id: uuid.UUID
    programme_id: uuid.UUID
    title: str
    opens_at: datetime
    closes_at: datetime
    criteria: str
    required_documents: list[str]
    created_at: datetime


class AccompanistCreate(Schema):
    id: Identifier
    name: Name
    territories: list[TerritoryCode] = Field(min_length=1, max_length=500)
    capacity: int | None = Field(default=None, ge=0, le=100_000)


class AccompanistRead(Schema):
    id: str
    name: str
    territories: list[str]
    capacity: int | None
    active: bool
