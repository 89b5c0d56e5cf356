"""Refusals of cards and tokens."""

from __future__ import annotations

from services.ledger.errors import LedgerDomainError


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
