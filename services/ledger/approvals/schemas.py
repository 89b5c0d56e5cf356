"""Bodies of four-eyes approvals."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from services.ledger.http.schemas import Out
from services.ledger.transactions.schemas import TransactionRead


class ApprovalRead(Out):
    id: UUID
    currency: str
    act: str
    account_id: UUID
    amount: int
    requested_by: str
    requested_at: datetime
    status: str
    decided_by: str | None
    decided_at: datetime | None
    transaction_id: UUID | None
    transaction: TransactionRead | None = None


class ApprovalPage(Out):
    items: list[ApprovalRead]
    next_cursor: str | None
