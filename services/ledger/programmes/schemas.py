"""Request and response bodies of voucher programmes, credits, purchases, sweeps, the
report and euro reimbursements, and the problems they may answer."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field

from services.ledger.currencies.errors import UnknownCurrency
from services.ledger.http.schemas import Out, PositiveAmount, Schema, Text
from services.ledger.programmes.errors import (
    CategoryCapExceeded,
    CategoryNotAllowed,
    FunderNotApproved,
    InsufficientVoucherCredit,
    InvalidLotExpiry,
    InvalidProgrammeAccount,
    MerchantNotApproved,
    NotAVoucherCurrency,
    ProgrammeNotConfigured,
)
from services.ledger.transactions.rules import MAX_AMOUNT
from services.ledger.transactions.schemas import POSTING_ERRORS, TransactionRead
from shared.strict_types import AwareInstant, WholeNumber

PROGRAMME_ERRORS = (UnknownCurrency, NotAVoucherCurrency, ProgrammeNotConfigured)
GRANT_ERRORS = (
    *POSTING_ERRORS,
    *PROGRAMME_ERRORS,
    FunderNotApproved,
    InvalidProgrammeAccount,
    InvalidLotExpiry,
    CategoryNotAllowed,
)
PURCHASE_ERRORS = (
    *POSTING_ERRORS,
    *PROGRAMME_ERRORS,
    InvalidProgrammeAccount,
    MerchantNotApproved,
    CategoryNotAllowed,
    CategoryCapExceeded,
    InsufficientVoucherCredit,
)
"""What the programme's endpoints (and card purchases) may answer, beyond a bad token."""

Category = Annotated[Text, Field(min_length=1, max_length=64)]


class ProgrammeConfig(Schema):
    allowed_categories: list[Category] = Field(min_length=1, max_length=100)
    category_caps: dict[Category, Annotated[WholeNumber, Field(le=MAX_AMOUNT)]] = Field(
        default_factory=dict,
        max_length=100,
        description="Most a beneficiary may spend per category within one cap period",
    )
    cap_period: Literal["month", "year", "programme"] = Field(
        default="month", description="Window of the caps: calendar month, year (UTC), or ever"
    )
    approved_merchants: list[UUID] = Field(default_factory=list, max_length=1000)
    funders: list[UUID] = Field(min_length=1, max_length=100)


class ProgrammeRead(Out):
    currency: str
    allowed_categories: list[str]
    category_caps: dict[str, int]
    cap_period: str
    approved_merchants: list[UUID]
    funders: list[UUID]


class CreditGrantCreate(Schema):
    funder_account_id: UUID
    beneficiary_account_id: UUID
    amount: WholeNumber = PositiveAmount
    expires_at: AwareInstant
    categories: list[Category] | None = Field(
        default=None, min_length=1, max_length=100, description="Earmark; null = any allowed"
    )
    idempotency_key: Text | None = Field(default=None, min_length=1, max_length=200)


class LotRead(Out):
    id: UUID
    currency: str
    beneficiary_account_id: UUID
    funder_account_id: UUID
    amount: int
    remaining: int
    expires_at: datetime
    categories: list[str] | None
    grant_transaction_id: UUID


class LotPage(Out):
    items: list[LotRead]
    next_cursor: str | None


class CreditGrantRead(Out):
    lot: LotRead
    transaction: TransactionRead


class PurchaseCreate(Schema):
    beneficiary_account_id: UUID
    merchant_account_id: UUID
    amount: WholeNumber = PositiveAmount
    category: Category | None = Field(
        default=None, description="Defaults to the merchant account's category"
    )
    idempotency_key: Text | None = Field(default=None, min_length=1, max_length=200)


class DrawRead(Out):
    lot_id: UUID
    funder_account_id: UUID
    amount: int


class PurchaseRead(Out):
    category: str
    transaction: TransactionRead
    draws: list[DrawRead]


class ExpirySweepRead(Out):
    currency: str
    lots_swept: int
    transactions: int
    amount_swept: int
    more: bool = Field(description="More expired lots are waiting: call again")


class CategorySpend(Out):
    category: str
    amount: int


class MerchantSpend(Out):
    merchant_account_id: UUID
    amount: int


class FunderReport(Out):
    funder_account_id: UUID
    lots: int
    granted: int
    spent: int
    swept: int = Field(description="Expired credit returned to this funder")
    reimbursed: int = Field(
        default=0, description="Spent credit this funder bought back from merchants in euros"
    )
    outstanding: int = Field(description="Still spendable in unexpired lots")
    expired_unswept: int = Field(description="Expired, waiting for the next sweep")
    by_category: list[CategorySpend]
    by_merchant: list[MerchantSpend]


class ProgrammeReport(Out):
    currency: str
    items: list[FunderReport]
    next_cursor: str | None


class FunderEuroAccount(Schema):
    funder_account_id: UUID
    euro_account_id: UUID


class ReimbursementConfig(Schema):
    issuer_account_id: UUID = Field(description="Voucher issuer that retires bought-back units")
    funder_euro_accounts: list[FunderEuroAccount] = Field(min_length=1, max_length=100)


class FunderEuroAccountRead(Out):
    funder_account_id: UUID
    euro_account_id: UUID


class ReimbursementConfigRead(Out):
    currency: str
    issuer_account_id: UUID
    funder_euro_accounts: list[FunderEuroAccountRead]


class ReimbursementCreate(Schema):
    merchant_account_id: UUID
    merchant_euro_account_id: UUID
    idempotency_key: Text | None = Field(default=None, min_length=1, max_length=200)


class FunderReimbursement(Out):
    funder_account_id: UUID
    euro_account_id: UUID
    units: int


class ReimbursementRead(Out):
    currency: str
    merchant_account_id: UUID
    units: int = Field(description="Voucher units bought back = euro cents paid")
    euro_currency: str
    by_funder: list[FunderReimbursement]
    transaction: TransactionRead
