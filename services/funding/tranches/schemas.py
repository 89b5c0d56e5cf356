"""Bodies of tranches, payment orders and the treasury's settlements."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from services.funding.http.fields import Identifier, LongText, Schema
from services.funding.tranches.rules import PaymentMode


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
