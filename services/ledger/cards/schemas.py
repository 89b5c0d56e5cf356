"""Request and response bodies of cards and card payments."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AwareDatetime, Field

from services.ledger.http.schemas import (
    Metadata,
    MetadataMap,
    Out,
    PositiveAmount,
    Schema,
    Text,
)
from services.ledger.programmes.schemas import PurchaseRead
from shared.strict_types import WholeNumber

CardSecret = Annotated[Text, Field(min_length=12, max_length=128)]


class CardCreate(Schema):
    account_id: UUID
    card_number: CardSecret | None = Field(
        default=None, description="PAN (12-19 digits, Luhn); stored only as a keyed fingerprint"
    )
    token: CardSecret | None = Field(
        default=None, description="Opaque token; omit both to have the ledger generate one"
    )
    label: Text = Field(default="", max_length=100)


class CardRead(Out):
    id: UUID
    account_id: UUID
    currency: str
    kind: Literal["pan", "token"]
    last4: str
    label: str
    status: Literal["active", "blocked"]
    block_reason: str | None
    blocked_at: datetime | None
    created_at: datetime


class CardIssued(CardRead):
    token: str | None = Field(
        default=None, description="The generated token, shown once (null for a given number)"
    )


class CardPage(Out):
    items: list[CardRead]
    next_cursor: str | None


class CardBlock(Schema):
    reason: Literal["lost", "stolen", "compromised", "holder_request", "other"]
    note: Text = Field(default="", max_length=500)


class PresentedCard(Schema):
    card_number: CardSecret | None = None
    token: CardSecret | None = None


class CardAuthorizationCreate(PresentedCard):
    merchant_account_id: UUID
    amount: WholeNumber = PositiveAmount
    expires_at: AwareDatetime | None = Field(
        default=None, description="Capture deadline; default 7 days"
    )
    metadata: MetadataMap = Metadata
    idempotency_key: Text | None = Field(default=None, min_length=1, max_length=200)


class CardPurchaseCreate(PresentedCard):
    merchant_account_id: UUID
    amount: WholeNumber = PositiveAmount
    category: Annotated[Text, Field(min_length=1, max_length=64)] | None = None
    idempotency_key: Text | None = Field(default=None, min_length=1, max_length=200)


class CardPurchaseRead(PurchaseRead):
    card_id: UUID
