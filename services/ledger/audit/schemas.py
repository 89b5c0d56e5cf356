"""Response bodies of the audit chain's verification."""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel


class BrokenLink(BaseModel):
    position: int
    transaction_id: UUID
    expected_hash: str
    stored_hash: str
    reason: str


class ChainVerification(BaseModel):
    currency: str
    verified_links: int
    unsealed_transactions: int
    first_broken: BrokenLink | None
