"""Refusals an account's state, type or bounds call for (409), or a wrong reference to it (422)."""

from __future__ import annotations

from services.ledger.currencies.errors import UnknownCurrency
from services.ledger.errors import LedgerDomainError


class AccountFrozen(LedgerDomainError):
    """A frozen account cannot be debited."""

    status, code, title = 409, "account-frozen", "Account is frozen"


class AccountClosed(LedgerDomainError):
    """A closed account cannot move at all."""

    status, code, title = 409, "account-closed", "Account is closed"


class InvalidStatusTransition(LedgerDomainError):
    """The requested account status change is not allowed from the current status."""

    status, code, title = 409, "invalid-status-transition", "Status change not allowed"


class AccountNotEmpty(LedgerDomainError):
    """An account with a balance or open holds cannot be closed."""

    status, code, title = 409, "account-not-empty", "Account still has a balance or holds"


class InsufficientFunds(LedgerDomainError):
    """A debit would take the available balance below zero."""

    status, code, title = 409, "insufficient-funds", "Insufficient available balance"


class CreditLimitExceeded(LedgerDomainError):
    """A debit would take the available balance below the account's credit limit."""

    status, code, title = 409, "credit-limit-exceeded", "Credit limit exceeded"


class BalanceLimitExceeded(LedgerDomainError):
    """A credit would take the balance above the account's maximum balance."""

    status, code, title = 409, "balance-limit-exceeded", "Maximum balance exceeded"


class CreditLimitOutOfPolicy(LedgerDomainError):
    """A requested credit limit is negative, above the policy maximum, or not allowed."""

    code, title = "credit-limit-out-of-policy", "Credit limit outside the currency's policy"


class CurrencyMismatch(LedgerDomainError):
    """A posting's currency differs from its account's currency."""

    code, title = "currency-mismatch", "Wrong currency for the account"


class UnknownAccount(LedgerDomainError):
    """A posting or hold names an account that does not exist."""

    code, title = "unknown-account", "Unknown account"


POSTING_REFUSALS = (
    UnknownCurrency,
    CurrencyMismatch,
    UnknownAccount,
    AccountFrozen,
    AccountClosed,
    InsufficientFunds,
    CreditLimitExceeded,
    BalanceLimitExceeded,
)
"""What an account refuses a posting for, in the order the posting paths document them
(holds, transactions, batches): one list, so a new refusal reaches every path's OpenAPI."""
