"""Refusals of the authority check (403: the caller lacks authority, whatever the state)."""

from __future__ import annotations

from typing import ClassVar

from services.ledger.errors import LedgerDomainError


class NoDebitAuthority(LedgerDomainError):
    """The caller is not the account's holder, has no mandate on it, does not operate its
    currency and proved no payer consent."""

    status: ClassVar[int] = 403
    code, title = "no-debit-authority", "No authority to debit this account"


class NoReadAuthority(LedgerDomainError):
    """Another member's statement, postings and exports are for its holder, a mandate that
    includes reading, or the operator."""

    status: ClassVar[int] = 403
    code, title = "no-read-authority", "No authority to read this account"


class OperatorActRequired(LedgerDomainError):
    """Issuance, reconversion, demurrage, sweeps, reversals and account administration are
    acts of the currency's operator, each under its own scope."""

    status: ClassVar[int] = 403
    code, title = "operator-act-required", "Only the currency's operator may do this"


class MandateLimitExceeded(LedgerDomainError):
    """A debit under a mandate is above its per-payment limit or would exceed its
    per-period limit."""

    status: ClassVar[int] = 403
    code, title = "mandate-limit-exceeded", "Above the mandate's limit"


class MandateNotActive(LedgerDomainError):
    """The mandate is revoked or expired: it can no longer be revoked or used."""

    status: ClassVar[int] = 409
    code, title = "mandate-not-active", "The mandate is no longer active"


class InvalidMandate(LedgerDomainError):
    """A mandate's terms contradict each other (a debit mandate without limits, an expiry
    in the past, a mandate to the holder itself)."""

    code, title = "invalid-mandate", "Invalid mandate"


class GrantLinkConflict(LedgerDomainError):
    """The application is already linked to another account."""

    status: ClassVar[int] = 409
    code, title = "grant-link-conflict", "The application is linked to another account"


DEBIT_ERRORS = (NoDebitAuthority, MandateLimitExceeded)
"""What any posting path may answer when the caller lacks authority over a debited account."""


class PayoutAccountNotHeld(LedgerDomainError):
    """Money paid out for an account (a reimbursement in euros) goes only to an account
    of the same holder."""

    status: ClassVar[int] = 409
    code, title = "payout-account-not-held", "The payout account has another holder"


class BeneficiaryNotLinked(LedgerDomainError):
    """A grant is paid only to the account its beneficiary linked to the application
    (``POST /accounts/{id}/grant-links``), never to an account an order names."""

    status: ClassVar[int] = 409
    code, title = "beneficiary-account-not-linked", "No account linked by the beneficiary"


class ProgrammeCurrencyNotBound(LedgerDomainError):
    """No funding account of the programme in this currency is mandated to the funding
    service: the currency is not bound to the programme."""

    status: ClassVar[int] = 409
    code, title = "programme-currency-not-bound", "The programme has no funding account here"
