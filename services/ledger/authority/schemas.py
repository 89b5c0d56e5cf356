"""Request and response bodies of mandates and grant links."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import Field

from services.ledger.authority.rules import MandatePeriod
from services.ledger.http.schemas import ClientId, Out, Schema, Text
from services.ledger.transactions.rules import MAX_AMOUNT
from shared.strict_types import AwareInstant

Limit = Annotated[int, Field(gt=0, le=MAX_AMOUNT, description="Minor units")]


class MandateCreate(Schema):
    grantee: ClientId = Field(description="Client id of the principal given authority")
    may_debit: bool = Field(default=True, description="May debit the account within limits")
    may_read: bool = Field(default=True, description="May read its statement and postings")
    max_per_payment: Limit | None = None
    max_per_period: Limit | None = None
    period: MandatePeriod = Field(
        default=MandatePeriod.MONTH, description="Calendar period (UTC) of max_per_period"
    )
    expires_at: AwareInstant
    purpose: Text = Field(default="", max_length=200)


class MandateRead(Out):
    id: UUID
    account_id: UUID
    grantee: str
    may_debit: bool
    may_read: bool
    max_per_payment: int | None
    max_per_period: int | None
    period: str
    expires_at: datetime
    purpose: str
    created_by: str
    created_at: datetime
    revoked_at: datetime | None
    revoked_by: str | None


class MandatePage(Out):
    items: list[MandateRead]
    next_cursor: str | None


class GrantLinkCreate(Schema):
    programme_code: str = Field(pattern=r"^[A-Z][A-Z0-9_-]{1,19}$")
    application_id: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")


class GrantLinkRead(Out):
    programme_code: str
    application_id: str
    account_id: UUID
    linked_by: str
    linked_at: datetime
