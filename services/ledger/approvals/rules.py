"""Pure rules of four-eyes approvals."""

from __future__ import annotations

from enum import StrEnum

from services.ledger.approvals.errors import ApprovalNotPending, SameOperator
from services.ledger.currencies.rules.currency import CurrencyRules


class Act(StrEnum):
    ISSUANCE = "issuance"
    RECONVERSION = "reconversion"

    @property
    def scope(self) -> str:
        """The scope of the act, which its approver needs too."""
        return "ledger:issue" if self is Act.ISSUANCE else "ledger:reconvert"


class Status(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


def needs_second_operator(rules: CurrencyRules, amount: int) -> bool:
    return rules.four_eyes_threshold is not None and amount >= rules.four_eyes_threshold


def check_decidable(*, status: str, requested_by: str, decider: str) -> None:
    """A pending approval, decided by another principal than the one who asked."""
    if status != Status.PENDING:
        raise ApprovalNotPending(f"the approval is already {status}", status=status)
    if decider == requested_by:
        raise SameOperator(
            "the operator who asked for this act cannot approve or reject it: a second "
            "operator must",
            requested_by=requested_by,
        )
