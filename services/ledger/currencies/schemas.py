"""Request and response bodies of currencies, their reserve, issuances and reconversions."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import Query
from pydantic import Field, StrictBool

from services.ledger.currencies.rules.currency import (
    DEFAULT_MAX_BACKDATING_DAYS,
    MAX_BACKDATING_DAYS,
    CurrencyKind,
)
from services.ledger.http.schemas import CODE, Out, PositiveAmount, Schema, Text
from services.ledger.transactions.rules import MAX_AMOUNT
from shared.strict_types import WHOLE, WholeNumber


class ReconversionFeesIn(Schema):
    default_bp: WholeNumber = Field(default=0, ge=0, lt=10_000)
    by_category: dict[Text, Annotated[int, Field(ge=0, lt=10_000), WHOLE]] = Field(
        default_factory=dict, max_length=100
    )


class DemurrageIn(Schema):
    rate_ppm: WholeNumber = Field(gt=0, le=1_000_000)
    period: Literal[1, 3, 6, 12] = Field(description="Months")


class CreditPolicyIn(Schema):
    default_limit: WholeNumber = Field(default=0, ge=0, le=MAX_AMOUNT)
    max_limit: WholeNumber = Field(ge=0, le=MAX_AMOUNT)
    max_total_debt: Annotated[int, Field(ge=0, le=MAX_AMOUNT), WHOLE] | None = None


class CurrencyRulesIn(Schema):
    convertible: StrictBool = False
    issuance_bonus_bp: WholeNumber = Field(default=0, ge=0, le=10_000)
    reconversion_fees: ReconversionFeesIn = Field(default_factory=ReconversionFeesIn)
    individual_reconversion: StrictBool = False
    demurrage: DemurrageIn | None = None
    credit_limit: CreditPolicyIn | None = None
    max_balance: Annotated[int, Field(gt=0, le=MAX_AMOUNT), WHOLE] | None = None
    monthly_load_cap: Annotated[int, Field(gt=0, le=MAX_AMOUNT), WHOLE] | None = None
    four_eyes_threshold: Annotated[int, Field(gt=0, le=MAX_AMOUNT), WHOLE] | None = Field(
        default=None,
        description="Issuances and reconversions of at least this amount (minor units) wait "
        "for a second operator's approval",
    )
    max_backdating_days: WholeNumber = Field(
        default=DEFAULT_MAX_BACKDATING_DAYS,
        ge=0,
        le=MAX_BACKDATING_DAYS,
        description="A transaction's effective date may lie at most this many days before "
        "today (UTC)",
    )


class CurrencyCreate(Schema):
    code: str = Field(pattern=CODE)
    kind: CurrencyKind
    scale: WholeNumber = Field(default=2, ge=0, le=6)
    operator: Text = Field(min_length=1, max_length=200)
    rules: CurrencyRulesIn = Field(default_factory=CurrencyRulesIn)


class CurrencyRead(Out):
    code: str
    kind: str
    scale: int
    operator: str
    rules: dict[str, Any]


class CurrencyPage(Out):
    items: list[CurrencyRead]
    next_cursor: str | None


class ReserveConfig(Schema):
    issuer_account_id: UUID
    reserve_account_id: UUID
    external_account_id: UUID
    fund_account_id: UUID | None = None


class ReserveRead(Out):
    currency: str
    issuer_account_id: UUID
    reserve_account_id: UUID
    external_account_id: UUID
    fund_account_id: UUID | None


class IssuanceCreate(Schema):
    account_id: UUID
    euros: WholeNumber = PositiveAmount
    idempotency_key: Text | None = Field(default=None, min_length=1, max_length=200)


class ReconversionCreate(Schema):
    account_id: UUID
    units: WholeNumber = PositiveAmount
    idempotency_key: Text | None = Field(default=None, min_length=1, max_length=200)


class Reconciliation(Out):
    currency: str
    units_in_circulation: int
    reserve_balance: int
    reported_bank_balance: int
    ledger_drift: int
    bank_drift: int
    balanced: bool


ReportedBankBalance = Annotated[
    int, Query(ge=-MAX_AMOUNT, le=MAX_AMOUNT, description="Euro cents on the bank statement")
]
"""The bank balance a reconciliation is checked against (a query parameter)."""
