"""Bodies of instruments: the terms a decision records, schedules, repayments, positions,
guarantee calls and recoveries, and the report's rows."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints

from services.funding.http.fields import Cents, LongText, Name, Schema, ShortText
from services.funding.instruments.rules import Frequency


def _plausible(value: date) -> date:
    # The same bound as every funding date (`http.fields`): a schedule of 600 monthly
    # instalments from 2200 still ends far from the calendar's end.
    if not 1900 <= value.year <= 2200:
        raise ValueError("must be between the years 1900 and 2200")
    return value


Day = Annotated[date, AfterValidator(_plausible)]
LedgerCurrency = Annotated[
    Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9_-]{1,19}$")] | None,
    Field(
        description="A local currency: the ledger posts the movement (an order answered by "
        "its event); absent: euros the treasury moved, recorded at once",
    ),
]
Instalments = Annotated[int, Field(ge=1, le=600)]


class LoanTermsIn(Schema):
    """Terms of a loan: zero interest for repayable advances and honour loans."""

    kind: Literal["repayable_advance", "honour_loan", "participatory_loan"]
    start_on: Day = Field(description="Expected disbursement: deferral and periods run from it")
    instalments: Instalments
    frequency: Frequency
    deferral_months: int = Field(default=0, ge=0, le=120)
    annual_rate_bp: int = Field(
        default=0, ge=0, le=10_000, description="Participatory loans only, basis points a year"
    )
    bank_name: Name | None = None
    bank_loan_cents: Cents | None = Field(
        default=None, description="The bank loan this loan helped obtain (leverage)"
    )
    jobs_declared: int | None = Field(
        default=None, ge=0, le=100_000, description="Jobs created or kept, as declared at decision"
    )


class GuaranteeTermsIn(Schema):
    """Terms of a guarantee on a bank loan; its cap is the decision's amount_cents."""

    kind: Literal["guarantee"]
    bank_name: Name
    bank_loan_cents: Cents
    covered_share_percent: int = Field(ge=1, le=100)
    fee_bp: int = Field(default=0, ge=0, le=10_000)
    term_months: Instalments
    jobs_declared: int | None = Field(
        default=None, ge=0, le=100_000, description="Jobs created or kept, as declared at decision"
    )


InstrumentTerms = Annotated[LoanTermsIn | GuaranteeTermsIn, Field(discriminator="kind")]


class InstrumentRead(Schema):
    id: uuid.UUID
    application_id: uuid.UUID
    decision_id: uuid.UUID
    kind: str
    amount_cents: int = Field(description="Principal of a loan, cap of a guarantee")
    state: str
    start_on: date | None
    deferral_months: int | None
    instalments: int | None
    frequency: str | None
    annual_rate_bp: int | None
    bank_name: str | None
    bank_loan_cents: int | None
    covered_share_percent: int | None
    fee_bp: int | None
    term_months: int | None
    jobs_declared: int | None
    fee_cents: int | None = Field(description="A guarantee's fee, recorded at decision")
    created_at: datetime


class FollowUpCreate(Schema):
    """The firm seen 1, 3 or 5 years after the decision."""

    years: Literal[1, 3, 5]
    observed_on: Day
    active: bool = Field(description="Whether the firm is still active")
    jobs: int = Field(ge=0, le=100_000, description="Jobs in the firm then")


class FollowUpRead(Schema):
    id: uuid.UUID
    instrument_id: uuid.UUID
    years: int
    observed_on: date
    active: bool
    jobs: int
    recorded_by: str
    created_at: datetime


class InstalmentRead(Schema):
    number: int
    due_on: date
    principal_cents: int
    interest_cents: int
    amount_cents: int
    paid_cents: int


class ScheduleRead(Schema):
    id: uuid.UUID
    instrument_id: uuid.UUID
    version: int
    reason: str
    base_repaid_cents: int = Field(description="Repaid before this version took over")
    created_by: str
    created_at: datetime
    instalments: list[InstalmentRead]


class RescheduleCreate(Schema):
    reason: LongText
    start_on: Day
    instalments: Instalments
    frequency: Frequency


class RepaymentCreate(Schema):
    amount_cents: Cents
    received_on: Day
    reference: ShortText | None = None
    currency_code: LedgerCurrency = None


class RepaymentRead(Schema):
    id: uuid.UUID
    instrument_id: uuid.UUID
    amount_cents: int
    received_on: date
    reference: str | None
    recorded_by: str
    status: Literal["recorded", "ordered", "settled", "failed"] = Field(
        description="recorded: euros, counted at once; ordered: a direct debit sent to the "
        "ledger; settled or failed: its answer (only recorded and settled ones count)"
    )
    order_id: uuid.UUID | None
    currency_code: str | None
    transaction_id: str | None
    paid_units: int | None
    failure_reason: str | None
    created_at: datetime


class PositionRead(Schema):
    instrument_id: uuid.UUID
    as_of: date
    state: str
    schedule_version: int
    disbursed_cents: int
    owed_cents: int
    repaid_cents: int
    due_cents: int
    arrears_cents: int
    days_in_arrears: int
    flagged: bool


class GuaranteeCallCreate(Schema):
    defaulted_on: Day
    outstanding_cents: Cents = Field(description="What the bank still had outstanding")
    currency_code: LedgerCurrency = None


class GuaranteeCallRead(Schema):
    id: uuid.UUID
    instrument_id: uuid.UUID
    defaulted_on: date
    outstanding_cents: int
    paid_cents: int
    status: Literal["paid", "ordered", "failed"] = Field(
        description="paid: by the treasury in euros, or by the ledger's answer; ordered: "
        "sent to the ledger (the payment credits reserved); failed: refused, may be called again"
    )
    order_id: uuid.UUID | None
    currency_code: str | None
    transaction_id: str | None
    paid_units: int | None
    failure_reason: str | None
    created_at: datetime


class RecoveryCreate(Schema):
    amount_cents: Cents
    received_on: Day


class RecoveryRead(Schema):
    id: uuid.UUID
    instrument_id: uuid.UUID
    amount_cents: int
    received_on: date
    created_at: datetime


class WriteOffCreate(Schema):
    reason: LongText


class WriteOffRead(Schema):
    id: uuid.UUID
    instrument_id: uuid.UUID
    reason: str
    owed_cents: int = Field(description="Owed when the write-off was asked for")
    requested_by: str
    approved_by: str | None
    approved_at: datetime | None
    created_at: datetime


class ReportRow(Schema):
    """One programme, territory, year and instrument kind."""

    programme_code: str
    territory: str
    year: int
    kind: str
    instruments: int
    amount_cents: int = Field(description="Principal of loans, caps of guarantees")
    disbursed_cents: int
    bank_loans_cents: int
    leverage: float | None = Field(description="Bank credit per euro of public money")
    due_cents: int
    repaid_cents: int
    repayment_rate: float | None
    losses_cents: int = Field(
        description="Guarantee calls paid less recoveries; what written-off loans still owe"
    )
    jobs_declared: int = Field(
        description="Jobs at the latest follow-up, else the latest accepted progress report, "
        "else as declared at decision"
    )
    jobs_at_decision: int = Field(description="Jobs created or kept, as declared at decision")
    fees_cents: int = Field(description="Guarantee fees recorded")
    survival_1y: float | None = Field(description="Share of firms followed at 1 year still active")
    survival_3y: float | None
    survival_5y: float | None


ReportKind = Literal["repayable_advance", "honour_loan", "participatory_loan", "guarantee"]
