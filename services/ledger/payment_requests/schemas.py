"""Request and response bodies of payment requests."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import Field

from services.ledger.http.schemas import Out, PositiveAmount, Schema, Text
from services.ledger.transactions.schemas import TransactionRead
from shared.strict_types import AwareInstant, WholeNumber


class PaymentRequestCreate(Schema):
    payee_account_id: UUID = Field(description="The account paid: the caller holds it")
    payer_account_id: UUID = Field(description="The account asked to pay")
    amount: WholeNumber = PositiveAmount
    description: Text = Field(default="", max_length=500)
    expires_at: AwareInstant | None = Field(
        default=None, description="Until when it may be accepted; default 7 days, at most 30"
    )


class PaymentRequestRead(Out):
    id: UUID
    currency: str
    payee_account_id: UUID
    payer_account_id: UUID
    amount: int
    description: str
    requested_by: str
    status: str = Field(description="pending, accepted, declined, cancelled or expired")
    expires_at: datetime
    created_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    transaction_id: UUID | None


class PaymentRequestAccepted(PaymentRequestRead):
    transaction: TransactionRead


class PaymentRequestPage(Out):
    items: list[PaymentRequestRead]
    next_cursor: str | None
