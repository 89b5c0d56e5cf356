"""Refusals of a transaction's postings (422: the request itself is wrong) and of the
currency-wide caps the database enforces as they are posted (409)."""

from __future__ import annotations

from services.ledger.errors import LedgerDomainError


class InvalidAmount(LedgerDomainError):
    """An amount is not a non-zero integer within the ledger's range."""

    code, title = "invalid-amount", "Invalid amount"


class TooFewPostings(LedgerDomainError):
    """A transaction needs at least two postings to balance."""

    code, title = "too-few-postings", "A transaction needs at least two postings"


class DuplicateAccountPosting(LedgerDomainError):
    """The same account appears in more than one posting of a transaction."""

    code, title = "duplicate-account-posting", "An account appears twice in a transaction"


class UnbalancedTransaction(LedgerDomainError):
    """The postings of some currency do not sum to zero."""

    code, title = "unbalanced-transaction", "Postings do not sum to zero per currency"


class AlreadyReversed(LedgerDomainError):
    """A transaction can be reversed once; a reversal is corrected by posting anew."""

    status, code, title = 409, "already-reversed", "Transaction already reversed"


class VoucherCreditRestricted(LedgerDomainError):
    """A beneficiary's voucher credit leaves only through programme purchases and sweeps."""

    code, title = "voucher-credit-restricted", "Voucher credit can only be spent by purchase"


class MonthlyLoadCapExceeded(LedgerDomainError):
    """Credits this calendar month would exceed the currency's monthly load cap."""

    status, code, title = 409, "monthly-load-cap-exceeded", "Monthly load cap exceeded"


class DebtCapExceeded(LedgerDomainError):
    """The sum of negative balances of a mutual-credit currency would exceed its cap."""

    status, code, title = 409, "debt-cap-exceeded", "Currency-wide debt cap exceeded"
