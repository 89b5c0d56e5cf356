"""Refusals of voucher programmes: rules, grants, purchases, sweeps and reimbursements."""

from __future__ import annotations

from services.ledger.errors import LedgerDomainError


class InvalidProgrammeRules(LedgerDomainError):
    """A programme's caps or categories contradict each other."""

    code, title = "invalid-programme-rules", "Invalid programme rules"


class MerchantNotApproved(LedgerDomainError):
    """The merchant is not an approved partner of the programme."""

    code, title = "merchant-not-approved", "Merchant not approved for this programme"


class CategoryNotAllowed(LedgerDomainError):
    """The spending category is not allowed by the programme."""

    code, title = "category-not-allowed", "Category not allowed for this programme"


class CategoryCapExceeded(LedgerDomainError):
    """The beneficiary's spending in this category would exceed the programme's cap."""

    status, code, title = 409, "category-cap-exceeded", "Category cap exceeded"


class InsufficientVoucherCredit(LedgerDomainError):
    """Unexpired credit lots usable for this category do not cover the amount."""

    status, code, title = 409, "insufficient-voucher-credit", "Not enough usable credit"


class NotAVoucherCurrency(LedgerDomainError):
    """Programme credits exist only in currencies of kind ``voucher``."""

    code, title = "not-a-voucher-currency", "Not a voucher currency"


class ProgrammeNotConfigured(LedgerDomainError):
    """The voucher currency has no programme rules yet (PUT .../programme first)."""

    status, code, title = 409, "programme-not-configured", "Programme not configured"


class FunderNotApproved(LedgerDomainError):
    """Credits can only be granted from one of the programme's funder accounts."""

    code, title = "funder-not-approved", "Funder not approved for this programme"


class InvalidProgrammeAccount(LedgerDomainError):
    """An account named by a programme has the wrong type for its role."""

    code, title = "invalid-programme-account", "Wrong account type for this programme role"


class InvalidLotExpiry(LedgerDomainError):
    """A credit lot must expire in the future."""

    code, title = "invalid-lot-expiry", "Invalid credit lot expiry"


class ReimbursementNotConfigured(LedgerDomainError):
    """The programme names no euro account for a funder, or no voucher issuer to retire to."""

    status, code, title = 409, "reimbursement-not-configured", "Euro reimbursement not configured"


class NothingToReimburse(LedgerDomainError):
    """Every purchase paid to this merchant was already reimbursed in euros."""

    status, code, title = 409, "nothing-to-reimburse", "Nothing to reimburse"
