"""Request and response bodies of clearing: terms, payments, positions, settlements and
the invariant."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import Field, StrictBool

from services.ledger.http.schemas import CODE, Out, PositiveAmount, Schema, Text
from services.ledger.transactions.rules import MAX_AMOUNT
from shared.strict_types import IsoDate, WholeNumber

PERIOD = r"^[1-9]\d{3}-(0[1-9]|1[0-2])$"
Rate = Field(default=0, ge=0, lt=10_000, description="Basis points (1 pb = 0,01 %)")
Minimum = Field(default=0, ge=0, le=MAX_AMOUNT, description="Minor units (cents)")


class TermsIn(Schema):
    """A currency's opt-in to clearing, with its fees (each rounded half up to the cent)."""

    enabled: StrictBool = True
    fee_account_id: UUID | None = Field(
        default=None, description="The currency's fund account credited with its fees"
    )
    payer_fee_bp: WholeNumber = Rate
    payer_fee_min: WholeNumber = Minimum
    payee_fee_bp: WholeNumber = Rate
    payee_fee_min: WholeNumber = Minimum


class TermsRead(Out):
    currency: str
    clearing_account_id: UUID
    fee_account_id: UUID | None
    payer_fee_bp: int
    payer_fee_min: int
    payee_fee_bp: int
    payee_fee_min: int
    enabled: bool
    authorised_by: str
    authorised_at: datetime


class PaymentCreate(Schema):
    payer_account_id: UUID
    payee_account_id: UUID
    amount: WholeNumber = PositiveAmount
    effective_date: IsoDate | None = Field(
        default=None,
        description="Backdated within both currencies' rules; never into a settled period",
    )
    description: Text = Field(default="", max_length=500)
    idempotency_key: Text | None = Field(default=None, min_length=1, max_length=200)


class PaymentRead(Out):
    transaction_id: UUID
    payer_currency: str
    payee_currency: str
    payer_account_id: UUID
    payee_account_id: UUID
    amount: int = Field(description="Units moved at par between the clearing accounts")
    payer_fee: int = Field(description="Charged to the payer on top of the amount")
    payee_fee: int = Field(description="Deducted from what the merchant receives")
    debited: int
    credited: int
    period: str = Field(pattern=PERIOD)
    settlement_id: UUID | None
    created_at: datetime


class PositionRead(Out):
    """Net clearing position of a pair of currencies for one period."""

    currency_low: str
    currency_high: str
    period: str
    low_to_high: int
    high_to_low: int
    payments: int
    payer_currency: str | None
    payee_currency: str | None
    net: int
    settlement_id: UUID | None


class PositionPage(Out):
    items: list[PositionRead]
    next_cursor: str | None


class SettlementCreate(Schema):
    currency_a: str = Field(pattern=CODE)
    currency_b: str = Field(pattern=CODE)
    period: str = Field(pattern=PERIOD, description="The calendar month settled, AAAA-MM")
    idempotency_key: Text | None = Field(default=None, min_length=1, max_length=200)


class SettlementRead(Out):
    id: UUID
    currency_low: str
    currency_high: str
    period: str
    low_to_high: int
    high_to_low: int
    payments: int
    payer_currency: str | None
    payee_currency: str | None
    amount: int = Field(description="Euro cents moved from the payer's reserve to the payee's")
    transaction_id: UUID | None
    settled_by: str
    settled_at: datetime


class SettlementPage(Out):
    items: list[SettlementRead]
    next_cursor: str | None


class InvariantRead(Out):
    """reserve + net clearing position = circulation, from the balances right now."""

    currency: str
    units_issued: int
    reserve_balance: int
    net_clearing_position: int = Field(description="Positive: the currency is owed euros")
    circulation: int = Field(description="Units held outside the issuer and clearing account")
    holds: bool
