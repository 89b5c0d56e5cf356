"""Refusals of four-eyes approvals."""

from __future__ import annotations

from typing import ClassVar

from services.ledger.errors import LedgerDomainError


class SameOperator(LedgerDomainError):
    """Four eyes: the principal who asked for an act cannot decide on it."""

    status: ClassVar[int] = 403
    code, title = "four-eyes-same-operator", "A second operator must decide"


class ApprovalNotPending(LedgerDomainError):
    """The approval was already approved or rejected."""

    status: ClassVar[int] = 409
    code, title = "approval-not-pending", "The approval is already decided"
