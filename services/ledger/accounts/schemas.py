"""Request and response bodies of accounts, balances, history and statements."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import Field

from services.ledger.accounts.rules import AccountStatus, AccountType
from services.ledger.http.schemas import (
    CODE,
    INSEE,
    ClientId,
    Metadata,
    MetadataMap,
    Out,
    Schema,
    Text,
)
from services.ledger.transactions.rules import MAX_AMOUNT
from shared.strict_types import WHOLE, WholeNumber


class AccountCreate(Schema):
    currency: str = Field(pattern=CODE)
    type: AccountType
    holder: ClientId | None = Field(
        default=None,
        description="Client id of the principal holding the account (its member's wallet app, "
        "a merchant's terminal); default: the operator opening it",
    )
    name: Text = Field(default="", max_length=200)
    credit_limit: Annotated[int, Field(ge=0, le=MAX_AMOUNT), WHOLE] | None = None
    territory: str | None = Field(default=None, pattern=INSEE, description="INSEE commune code")
    merchant_category: Text | None = Field(default=None, min_length=1, max_length=60)
    metadata: MetadataMap = Metadata


class AccountRead(Out):
    id: UUID
    currency: str
    type: str
    holder: str
    status: str
    name: str
    credit_limit: int
    territory: str | None
    merchant_category: str | None
    metadata: dict[str, Any]
    posted: int
    held: int
    available: int
    lower_bound: int | None
    upper_bound: int | None


class AccountPage(Out):
    items: list[AccountRead]
    next_cursor: str | None


class HolderChange(Schema):
    holder: ClientId


class StatusChange(Schema):
    status: AccountStatus


class CreditLimitChange(Schema):
    credit_limit: WholeNumber = Field(ge=0, le=MAX_AMOUNT)
    reason: Text = Field(default="", max_length=500)


class LimitChangeRead(Out):
    id: int
    old_limit: int
    new_limit: int
    reason: str
    changed_by: str
    changed_at: datetime


class LimitChangePage(Out):
    items: list[LimitChangeRead]
    next_cursor: str | None


class BalanceRead(Out):
    account_id: UUID
    currency: str
    posted: int
    held: int
    available: int
    at: datetime | None = Field(default=None, description="Set for a balance at a past instant")


class HistoryEntry(Out):
    transaction_id: UUID
    amount: int
    kind: str
    effective_date: date
    inserted_at: datetime
    description: str


class HistoryPage(Out):
    items: list[HistoryEntry]
    next_cursor: str | None


class Statement(Out):
    account_id: UUID
    currency: str
    since: datetime
    until: datetime
    opening_balance: int
    closing_balance: int
    total_credits: int
    total_debits: int
    entries: list[HistoryEntry]
