"""Request and response bodies of the funding API (``XCreate`` in, ``XRead`` out)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Generic, Literal, TypeVar

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from services.funding.domain.eligibility import LegalForm, ProjectStage
from services.funding.domain.tranches import PaymentMode


def _storable(value: str) -> str:
    # PostgreSQL text refuses NUL and lone surrogates cannot be encoded: refuse them here.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("must be valid Unicode text") from exc
    return value


_NOT_BLANK = r"^[^\x00]*\S[^\x00]*$"
_STORABLE = AfterValidator(_storable)


def _sane_moment(value: datetime) -> datetime:
    # Far-away years overflow once converted to UTC; no grant lives outside this range.
    if not 1900 <= value.year <= 2200:
        raise ValueError("must be between the years 1900 and 2200")
    return value


Moment = Annotated[AwareDatetime, AfterValidator(_sane_moment)]
Name = Annotated[
    str, StringConstraints(min_length=1, max_length=200, pattern=_NOT_BLANK), _STORABLE
]
ShortText = Annotated[
    str, StringConstraints(min_length=1, max_length=100, pattern=_NOT_BLANK), _STORABLE
]
LongText = Annotated[
    str, StringConstraints(min_length=1, max_length=20_000, pattern=_NOT_BLANK), _STORABLE
]
Code = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9_-]{1,39}$")]
EnvelopeCode = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9_-]{1,59}$")]
Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,99}$")]
TerritoryCode = Annotated[str, StringConstraints(pattern=r"^(?:\d{2,3}|2[AB]|\d{5}|2[AB]\d{3})$")]
CommuneCode = Annotated[str, StringConstraints(pattern=r"^(?:\d{5}|2[AB]\d{3})$")]
Cents = Annotated[int, Field(gt=0, le=10**13, description="Euro cents")]
CentsOrZero = Annotated[int, Field(ge=0, le=10**13, description="Euro cents")]
FieldValue = LongText | Annotated[int, Field(ge=-(10**13), le=10**13)] | bool
FieldName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z_]{0,39}$")]

T = TypeVar("T")


class Schema(BaseModel):
    model_config = ConfigDict(from_attributes=True, extra="forbid")


class Page(Schema, Generic[T]):
    """One page of a keyset-paginated list; pass ``next_cursor`` as ``cursor`` for the next."""

    items: list[T]
    next_cursor: str | None = None


# --- programmes, envelopes, calls, accompanists ---------------------------------------------


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


# --- applications and instruction -----------------------------------------------------------


class ApplicationCreate(Schema):
    envelope_code: EnvelopeCode
    call_id: uuid.UUID | None = None
    applicant_name: Name
    legal_form: LegalForm
    project_stage: ProjectStage
    title: Name
    commune_insee_code: CommuneCode
    requested_amount_cents: Cents


class ApplicationRead(Schema):
    id: uuid.UUID
    programme_id: uuid.UUID
    envelope_id: uuid.UUID
    call_id: uuid.UUID | None
    applicant_client_id: str
    applicant_name: str
    legal_form: str
    project_stage: str
    title: str
    commune_insee_code: str
    territory: str
    requested_amount_cents: int
    granted_amount_cents: int | None
    paid_cents: int
    state: str
    instructor_id: str | None
    convention_reference: str | None
    created_at: datetime
    updated_at: datetime


class TransitionCreate(Schema):
    action: Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,40}$")]
    fields: dict[FieldName, FieldValue] = Field(default_factory=dict, max_length=20)


class TransitionRead(Schema):
    sequence: int
    actor_client_id: str
    actor_role: str
    action: str
    from_state: str | None
    to_state: str
    fields: dict[str, object]
    at: datetime
    previous_hash: str
    hash: str


class AuditRead(Schema):
    """Whether the application's hash chain still verifies."""

    application_id: uuid.UUID
    entries: int
    chain_valid: bool
    head_hash: str | None


class OpinionCreate(Schema):
    expert: Name
    verdict: Literal["favourable", "unfavourable", "reserved"]
    body: LongText
    confidential: bool = False


class OpinionRead(Schema):
    id: uuid.UUID
    expert: str
    verdict: str
    body: str
    confidential: bool
    created_at: datetime


class NoteCreate(Schema):
    body: LongText


class AnnotationRead(Schema):
    id: uuid.UUID
    author_client_id: str
    body: str
    created_at: datetime


class MessageRead(Schema):
    id: uuid.UUID
    author_client_id: str
    author_role: str
    body: str
    created_at: datetime


class DocumentCreate(Schema):
    filename: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._()-]{0,199}$")]
    content_type: Annotated[str, StringConstraints(pattern=r"^[a-z]+/[a-z0-9.+-]{1,80}$")]
    content_base64: Annotated[str, StringConstraints(max_length=7_000_000)]


class DocumentRead(Schema):
    id: uuid.UUID
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    uploaded_by: str
    created_at: datetime


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


# --- committee ------------------------------------------------------------------------------


class SessionCreate(Schema):
    programme_code: Code
    title: Name
    scheduled_at: Moment
    members: list[Identifier] = Field(min_length=1, max_length=50)
    quorum: int | None = Field(default=None, ge=1, le=50)


class SessionRead(Schema):
    id: uuid.UUID
    programme_id: uuid.UUID
    title: str
    scheduled_at: datetime
    quorum: int
    status: str
    members: list[str]
    attendees: list[str]
    agenda: list[uuid.UUID]


class AgendaAdd(Schema):
    application_id: uuid.UUID


class ConflictCreate(Schema):
    application_id: uuid.UUID
    member_id: Identifier


class SessionOpen(Schema):
    attendees: list[Identifier] = Field(max_length=50)


class VoteCreate(Schema):
    application_id: uuid.UUID
    member_id: Identifier
    choice: Literal["for", "against", "abstain"]


class DecisionCreate(Schema):
    application_id: uuid.UUID
    outcome: Literal["approved", "rejected", "adjourned"]
    amount_cents: Cents | None = None
    deliberation_number: ShortText | None = None
    reason: LongText | None = None


class DecisionRead(Schema):
    id: uuid.UUID
    session_id: uuid.UUID
    application_id: uuid.UUID
    outcome: str
    amount_cents: int | None
    deliberation_number: str | None
    reason: str | None
    votes_for: int
    votes_against: int
    abstentions: int
    created_at: datetime


# --- tranches and payments ------------------------------------------------------------------


class TrancheRead(Schema):
    id: uuid.UUID
    application_id: uuid.UUID
    number: int
    kind: str
    amount_cents: int
    payable_when: str
    status: str
    payable_since: datetime | None
    order_id: uuid.UUID | None
    payment_mode: str | None
    currency_code: str | None
    ordered_at: datetime | None
    settled_at: datetime | None
    transaction_id: str | None
    failure_reason: str | None
    paid_units: int | None = Field(
        description="Minor units of the local currency the ledger paid for amount_cents"
    )
    conversion_rate: str | None = Field(
        description="Units per euro the ledger used to convert amount_cents"
    )
    conversion_rounding: str | None = Field(
        description="Rounding rule the ledger used for the conversion (half-even)"
    )


class PaymentOrderCreate(Schema):
    mode: PaymentMode
    currency_code: Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9_-]{1,19}$")] | None = (
        None
    )
    beneficiary_account_id: Identifier | None = Field(
        default=None,
        description="Optional, ledger payments only: the ledger pays the account the "
        "beneficiary linked to the application and refuses an order naming another",
    )
    funding_account_id: Identifier | None = Field(
        default=None,
        description="Optional, ledger payments only: the ledger debits an account the "
        "currency operator mandated to the programme and refuses any other",
    )


class SettlementCreate(Schema):
    """The treasury's answer to a euro payment order."""

    status: Literal["paid", "failed"]
    reason: LongText | None = None
    transaction_id: Identifier | None = None


# --- reporting ------------------------------------------------------------------------------


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
