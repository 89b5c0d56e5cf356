"""Every rule the ledger domain can refuse, as one typed exception per rule.

Why one class per rule: the API renders each as RFC 9457 problem+json with a stable
machine-readable ``code`` that partner applications switch on, and each endpoint lists the
classes it can raise in its OpenAPI ``responses=``. The attributes (``status``, ``code``,
``title``, ``detail``, ``extra``) come from ``shared.errors.DomainError``, the
framework-free base one handler renders.

Status convention: 422 when the request itself breaks a rule whatever the ledger's state
(zero amount, unbalanced postings, time currency reconversion); 409 when the request is
well-formed but conflicts with the current state (insufficient funds, frozen account, hold
already captured); 403 when the caller lacks authority over an account or an operator act
(`services.ledger.authority.errors`), whatever the state. A refused operation never
changes anything: callers check, then write.
"""

from __future__ import annotations

from typing import ClassVar

from shared.errors import DomainError


class LedgerDomainError(DomainError):
    """Base of every ledger rule violation; carries the problem+json fields."""

    status: ClassVar[int] = 422
    code: ClassVar[str] = "ledger-rule-violated"
    title: ClassVar[str] = "Ledger rule violated"


# --- amounts, currencies and transactions (422: the request itself is wrong) -------------


class InvalidAmount(LedgerDomainError):
    """An amount is not a non-zero integer within the ledger's range."""

    code, title = "invalid-amount", "Invalid amount"


class InvalidCurrencyRules(LedgerDomainError):
    """A currency's rules contradict each other (e.g. a convertible time currency)."""

    code, title = "invalid-currency-rules", "Invalid currency rules"


class TooFewPostings(LedgerDomainError):
    """A transaction needs at least two postings to balance."""

    code, title = "too-few-postings", "A transaction needs at least two postings"


class DuplicateAccountPosting(LedgerDomainError):
    """The same account appears in more than one posting of a transaction."""

    code, title = "duplicate-account-posting", "An account appears twice in a transaction"


class UnbalancedTransaction(LedgerDomainError):
    """The postings of some currency do not sum to zero."""

    code, title = "unbalanced-transaction", "Postings do not sum to zero per currency"


class CurrencyMismatch(LedgerDomainError):
    """A posting's currency differs from its account's currency."""

    code, title = "currency-mismatch", "Wrong currency for the account"


class CurrencyNotConvertible(LedgerDomainError):
    """A euro amount (a grant tranche) cannot be paid in a currency without a euro rate
    (mutual credit, hours)."""

    code, title = "currency-not-convertible", "The currency has no euro rate"


class InvalidPeriod(LedgerDomainError):
    """A date range or period is empty, reversed or not aligned on the currency's period."""

    code, title = "invalid-period", "Invalid period"


# --- accounts (409: the account's state forbids it) ----------------------------------------


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


class MonthlyLoadCapExceeded(LedgerDomainError):
    """Credits this calendar month would exceed the currency's monthly load cap."""

    status, code, title = 409, "monthly-load-cap-exceeded", "Monthly load cap exceeded"


class DebtCapExceeded(LedgerDomainError):
    """The sum of negative balances of a mutual-credit currency would exceed its cap."""

    status, code, title = 409, "debt-cap-exceeded", "Currency-wide debt cap exceeded"


class CreditLimitOutOfPolicy(LedgerDomainError):
    """A requested credit limit is negative, above the policy maximum, or not allowed."""

    code, title = "credit-limit-out-of-policy", "Credit limit outside the currency's policy"


# --- holds ------------------------------------------------------------------------------


class InvalidHoldExpiry(LedgerDomainError):
    """A hold's deadline is not after its creation time."""

    code, title = "invalid-hold-expiry", "Hold deadline must be in the future"


class HoldNotAuthorized(LedgerDomainError):
    """The hold was already captured, voided or expired."""

    status, code, title = 409, "hold-not-authorized", "Hold is no longer authorized"


class HoldExpired(LedgerDomainError):
    """The hold's deadline has passed; it can only expire."""

    status, code, title = 409, "hold-expired", "Hold has expired"


class HoldNotExpired(LedgerDomainError):
    """A hold cannot be expired before its deadline."""

    status, code, title = 409, "hold-not-expired", "Hold deadline not reached"


class CaptureExceedsHold(LedgerDomainError):
    """A capture asks for more than the hold authorized."""

    code, title = "capture-exceeds-hold", "Capture above the authorized amount"


# --- issuance, reconversion, reserve ---------------------------------------------------------


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


# --- voucher programmes ------------------------------------------------------------------------


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


class VoucherCreditRestricted(LedgerDomainError):
    """A beneficiary's voucher credit leaves only through programme purchases and sweeps."""

    code, title = "voucher-credit-restricted", "Voucher credit can only be spent by purchase"


class InvalidLotExpiry(LedgerDomainError):
    """A credit lot must expire in the future."""

    code, title = "invalid-lot-expiry", "Invalid credit lot expiry"


# --- cards and tokens ------------------------------------------------------------------------


class InvalidCardNumber(LedgerDomainError):
    """A card number fails its format or Luhn check, or a token has the wrong shape."""

    code, title = "invalid-card-number", "Invalid card number or token"


class CardAlreadyIssued(LedgerDomainError):
    """This card number or token already maps to an account."""

    status, code, title = 409, "card-already-issued", "Card already issued"


class UnknownCard(LedgerDomainError):
    """No card has this number or token (or it is not visible to the caller)."""

    code, title = "unknown-card", "Unknown card"


class CardBlocked(LedgerDomainError):
    """The card was blocked (lost, stolen): it authorises nothing any more."""

    status, code, title = 409, "card-blocked", "Card is blocked"


class CardNotForVoucher(LedgerDomainError):
    """A voucher card pays by programme purchase (``POST /cards/purchases``), not by hold."""

    code, title = "card-voucher-purchase-only", "Voucher cards pay by programme purchase"


class CardRequiresVoucher(LedgerDomainError):
    """Programme purchases by card need a card whose account holds a voucher currency."""

    code, title = "card-not-voucher", "Card does not hold programme credits"


class InvalidCardMerchant(LedgerDomainError):
    """Card payments go to a merchant account of the card's currency."""

    code, title = "invalid-card-merchant", "Card payee must be a merchant of the card's currency"


class ReimbursementNotConfigured(LedgerDomainError):
    """The programme names no euro account for a funder, or no voucher issuer to retire to."""

    status, code, title = 409, "reimbursement-not-configured", "Euro reimbursement not configured"


class NothingToReimburse(LedgerDomainError):
    """Every purchase paid to this merchant was already reimbursed in euros."""

    status, code, title = 409, "nothing-to-reimburse", "Nothing to reimburse"


def error_types() -> tuple[type[LedgerDomainError], ...]:
    """Every concrete rule error, e.g. to document them all or check codes are unique."""
    found: list[type[LedgerDomainError]] = []
    pending: list[type[LedgerDomainError]] = [LedgerDomainError]
    while pending:
        cls = pending.pop()
        for sub in cls.__subclasses__():
            found.append(sub)
            pending.append(sub)
    return tuple(sorted(found, key=lambda c: c.code))


# --- requests ------------------------------------------------------------------------------


class UnknownAccount(LedgerDomainError):
    """A posting or hold names an account that does not exist."""

    code, title = "unknown-account", "Unknown account"


class UnknownCurrency(LedgerDomainError):
    """An account or posting names a currency the ledger does not know."""

    code, title = "unknown-currency", "Unknown currency"


class CurrencyExists(LedgerDomainError):
    """A currency with this code already exists."""

    status, code, title = 409, "currency-exists", "Currency already exists"


class AlreadyReversed(LedgerDomainError):
    """A transaction can be reversed once; a reversal is corrected by posting anew."""

    status, code, title = 409, "already-reversed", "Transaction already reversed"


class IdempotencyKeyReused(LedgerDomainError):
    """The idempotency key was already used by this client with a different request."""

    status, code, title = 409, "idempotency-key-reused", "Idempotency key reused"


class InvalidCursor(LedgerDomainError):
    """A pagination cursor was not produced by this API."""

    code, title = "invalid-cursor", "Invalid pagination cursor"


class DemurrageNotConfigured(LedgerDomainError):
    """The currency has no demurrage rule, or the named fund cannot receive the charges."""

    code, title = "demurrage-not-configured", "Demurrage is not configured for this currency"
