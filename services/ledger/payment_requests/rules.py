"""Pure rules of payment requests: their lifetime and their one decision.

No I/O here: `service` loads the request and the accounts, and these functions decide.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from services.ledger.accounts.errors import AccountClosed, AccountFrozen, CurrencyMismatch
from services.ledger.accounts.rules import AccountStatus
from services.ledger.payment_requests.errors import (
    InvalidPaymentRequestExpiry,
    PayerIsPayee,
    PaymentRequestExpired,
    PaymentRequestNotPending,
)

DEFAULT_LIFETIME = timedelta(days=7)
MAX_LIFETIME = timedelta(days=30)


class Status(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


def effective_status(status: str, expires_at: datetime, now: datetime) -> Status:
    """The status as readers see it: a pending request past its expiry is expired (nothing
    needs to write that down: it can no longer be decided)."""
    if status == Status.PENDING and now >= expires_at:
        return Status.EXPIRED
    return Status(status)


def expiry(requested: datetime | None, now: datetime) -> datetime:
    """When a new request expires: ``requested`` if it is in the future and at most
    `MAX_LIFETIME` ahead, `DEFAULT_LIFETIME` from now if none was asked."""
    if requested is None:
        return now + DEFAULT_LIFETIME
    if requested <= now:
        raise InvalidPaymentRequestExpiry("a payment request must expire in the future")
    if requested - now > MAX_LIFETIME:
        raise InvalidPaymentRequestExpiry(
            f"a payment request expires at most {MAX_LIFETIME.days} days ahead",
            max_days=MAX_LIFETIME.days,
        )
    return requested


def check_parties(payee: Mapping[Any, Any], payer: Mapping[Any, Any]) -> None:
    """Two different active accounts of one currency."""
    if payee["id"] == payer["id"]:
        raise PayerIsPayee("a payment request asks another account than the payee's")
    if payee["currency"] != payer["currency"]:
        raise CurrencyMismatch(
            f"the payee account holds {payee['currency']}, the payer's {payer['currency']}",
            account_currency=payee["currency"],
            posting_currency=payer["currency"],
        )
    for role, account in (("payee", payee), ("payer", payer)):
        status = AccountStatus(account["status"])
        if status is AccountStatus.CLOSED:
            raise AccountClosed(f"the {role} account is closed", account_id=str(account["id"]))
        if status is AccountStatus.FROZEN:
            raise AccountFrozen(f"the {role} account is frozen", account_id=str(account["id"]))


def check_decidable(status: str, expires_at: datetime, now: datetime) -> None:
    """Only a pending request before its expiry is accepted, declined or cancelled."""
    current = effective_status(status, expires_at, now)
    if current is Status.EXPIRED:
        raise PaymentRequestExpired(
            f"the payment request expired at {expires_at.isoformat()}",
            expires_at=expires_at.isoformat(),
        )
    if current is not Status.PENDING:
        raise PaymentRequestNotPending(
            f"the payment request is already {current.value}", status=current.value
        )
