"""What payment schedules and payment orders refuse."""

from __future__ import annotations

from collections.abc import Iterable

from services.funding.errors import FundingDomainError


class InvalidScheduleError(FundingDomainError):
    """The payment schedule parameters or figures are inconsistent."""

    status, code, title = 422, "invalid-schedule", "Payment schedule is inconsistent"


class UnknownTrancheError(FundingDomainError):
    """No tranche with this number exists in the schedule."""

    status, code, title = 404, "unknown-tranche", "No such tranche"


class TrancheNotPayableError(FundingDomainError):
    """The tranche's payability conditions are not met."""

    status, code, title = 409, "tranche-not-payable", "Tranche is not payable yet"

    def __init__(self, *, number: int, reasons: Iterable[str]) -> None:
        listed = list(reasons)
        super().__init__(
            f"tranche {number} is not payable: " + "; ".join(listed),
            tranche_number=number,
            reasons=listed,
        )


class TrancheStatusError(FundingDomainError):
    """The tranche's status does not allow this (e.g. marking paid a tranche never ordered)."""

    status, code, title = 409, "tranche-status", "Tranche status forbids this"


class InvalidPaymentModeError(FundingDomainError):
    """The payment mode and currency do not fit together."""

    status, code, title = 422, "invalid-payment-mode", "Payment mode and currency do not match"
