"""Refusals of payment requests."""

from __future__ import annotations

from typing import ClassVar

from services.ledger.errors import LedgerDomainError


class PayerIsPayee(LedgerDomainError):
    """A payment request names two different accounts."""

    code, title = "payment-request-payer-is-payee", "The payer and the payee are the same account"


class InvalidPaymentRequestExpiry(LedgerDomainError):
    """A payment request expires in the future, at most `rules.MAX_LIFETIME` ahead."""

    code, title = "invalid-payment-request-expiry", "Invalid payment request expiry"


class PaymentRequestNotPending(LedgerDomainError):
    """The request was already accepted, declined or cancelled."""

    status: ClassVar[int] = 409
    code, title = "payment-request-not-pending", "The payment request is already decided"


class PaymentRequestExpired(LedgerDomainError):
    """The request's expiry has passed: it can no longer be accepted (nor declined or
    cancelled: it is over)."""

    status: ClassVar[int] = 409
    code, title = "payment-request-expired", "The payment request has expired"
