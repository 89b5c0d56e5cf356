"""Refusals of currencies, their rules, issuance, reconversion and reserve."""

from __future__ import annotations

from services.ledger.errors import LedgerDomainError


class InvalidCurrencyRules(LedgerDomainError):
    """A currency's rules contradict each other (e.g. a convertible time currency)."""

    code, title = "invalid-currency-rules", "Invalid currency rules"


class UnknownCurrency(LedgerDomainError):
    """A path, an account or a posting names a currency the ledger does not know: a 404
    that says so, so a typo in a code is not mistaken for a refusal of the request."""

    status, code, title = 404, "currency-not-found", "Currency not found"


class CurrencyExists(LedgerDomainError):
    """A currency with this code already exists."""

    status, code, title = 409, "currency-exists", "Currency already exists"


class CurrencyNotConvertible(LedgerDomainError):
    """A euro amount (a grant tranche) cannot be paid in a currency without a euro rate
    (mutual credit, hours)."""

    code, title = "currency-not-convertible", "The currency has no euro rate"


class ConversionNotAllowed(LedgerDomainError):
    """The currency cannot be issued against euros or reconverted (time, mutual credit...)."""

    code, title = "conversion-not-allowed", "Currency cannot be converted"


class ReconversionForbidden(LedgerDomainError):
    """This account type may not reconvert units to euros in this currency."""

    code, title = "reconversion-forbidden", "Reconversion not allowed for this account"


class ReconversionTooSmall(LedgerDomainError):
    """After the fee nothing would be paid out."""

    code, title = "reconversion-too-small", "Amount too small to cover the reconversion fee"


class FundAccountRequired(LedgerDomainError):
    """A bonus must be paid or a fee received, but no fund account was named for it."""

    code, title = "fund-account-required", "A fund account is required"


class ReserveInvariantViolated(LedgerDomainError):
    """Units in circulation would no longer equal the euro reserve."""

    status, code, title = 409, "reserve-invariant-violated", "Units in circulation != reserve"
