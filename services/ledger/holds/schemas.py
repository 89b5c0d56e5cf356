"""Request and response bodies of holds."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import AwareDatetime, Field, StrictInt

from services.ledger.http.schemas import (
    CODE,
    Metadata,
    MetadataMap,
    Out,
    PositiveAmount,
    Schema,
    Text,
)
from services.ledger.transactions.rules import MAX_AMOUNT


class HoldCreate(Schema):
    payer: UUID
    payee: UUID
    currency: str = Field(pattern=CODE)
    amount: StrictInt = PositiveAmount
    expires_at: AwareDatetime
    metadata: MetadataMap = Metadata
    idempotency_key: Text | None = Field(default=None, min_length=1, max_length=200)


class HoldCapture(Schema):
    amount: StrictInt | None = Field(default=None, gt=0, le=MAX_AMOUNT)


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
