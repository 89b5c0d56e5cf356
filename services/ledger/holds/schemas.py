"""Request and response bodies of holds, and the problems placing one may answer."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import Field

from services.ledger.accounts.errors import POSTING_REFUSALS
from services.ledger.authority.errors import DEBIT_ERRORS
from services.ledger.holds.errors import InvalidHoldExpiry
from services.ledger.http.schemas import (
    CODE,
    Metadata,
    MetadataMap,
    Out,
    PositiveAmount,
    Schema,
    Text,
)
from services.ledger.idempotency.errors import IdempotencyKeyReused
from services.ledger.transactions.errors import (
    DuplicateAccountPosting,
    InvalidAmount,
    VoucherCreditRestricted,
)
from services.ledger.transactions.rules import MAX_AMOUNT
from shared.problems import Unprocessable
from shared.strict_types import WHOLE, AwareInstant, WholeNumber

HOLD_ERRORS = (
    InvalidAmount,
    InvalidHoldExpiry,
    DuplicateAccountPosting,
    *POSTING_REFUSALS,
    IdempotencyKeyReused,
    VoucherCreditRestricted,
    Unprocessable,
    *DEBIT_ERRORS,
)
"""What placing a hold (or authorising a card payment) may answer."""


class HoldCreate(Schema):
    payer: UUID
    payee: UUID
    currency: str = Field(pattern=CODE)
    amount: WholeNumber = PositiveAmount
    expires_at: AwareInstant
    metadata: MetadataMap = Metadata
    idempotency_key: Text | None = Field(default=None, min_length=1, max_length=200)


class HoldCapture(Schema):
    amount: Annotated[int, Field(gt=0, le=MAX_AMOUNT), WHOLE] | None = None


class HoldRead(Out):
    id: UUID
    payer: UUID
    payee: UUID
    currency: str
    amount: int
    captured: int
    status: str
    expires_at: datetime
    transaction_id: UUID | None
    metadata: dict[str, Any]


class HoldPage(Out):
    items: list[HoldRead]
    next_cursor: str | None
