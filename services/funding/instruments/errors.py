"""What instruments, schedules, repayments and guarantee calls refuse."""

from __future__ import annotations

from services.funding.errors import FundingDomainError


class InvalidTermsError(FundingDomainError):
    """The instrument's terms are inconsistent (a guarantee cap above its covered share, …)."""

    status, code, title = 422, "invalid-instrument-terms", "Instrument terms are inconsistent"


class InstrumentKindError(FundingDomainError):
    """The act does not apply to this kind of instrument (a repayment on a guarantee, …)."""

    status, code, title = 409, "instrument-kind", "Not possible for this kind of instrument"


class OverpaymentError(FundingDomainError):
    """A repayment beyond what the borrower still owes."""

    status, code, title = 409, "repayment-above-balance", "Repayment exceeds the balance owed"


class NotDisbursedError(FundingDomainError):
    """Repayments come after the loan is disbursed."""

    status, code, title = 409, "loan-not-disbursed", "The loan has not been disbursed"


class GuaranteeCallError(FundingDomainError):
    """The guarantee cannot be called (already called) or a recovery comes without a call."""

    status, code, title = 409, "guarantee-call", "Guarantee call refused"


class NothingToRescheduleError(FundingDomainError):
    """A loan fully repaid has nothing left to reschedule."""

    status, code, title = 409, "nothing-to-reschedule", "Nothing left to reschedule"


class FutureDateError(FundingDomainError):
    """Money received, or a default reported, on a day that has not come yet."""

    status, code, title = 422, "date-in-future", "The date is after today"


class WriteOffError(FundingDomainError):
    """Only a flagged loan is written off, once, and only a requested write-off approved."""

    status, code, title = 409, "write-off", "Write-off refused"


class FourEyesError(FundingDomainError):
    """The officer who asked for a write-off cannot approve it too."""

    status, code, title = 403, "four-eyes", "A second officer must approve"


class FollowUpError(FundingDomainError):
    """A firm is followed once at each of 1, 3 and 5 years."""

    status, code, title = 409, "follow-up-recorded", "This follow-up is already recorded"


class InvalidReportCursorError(FundingDomainError):
    """The report's ``cursor`` is not a ``next_cursor`` this service gave (422, as a
    malformed cursor of the other lists)."""

    status, code, title = 422, "invalid-cursor", "The cursor is not valid"
