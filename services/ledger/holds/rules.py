"""Two-phase payments: authorize a hold, then capture, void or let it expire.

A card payment at a merchant first reserves the amount (the hold), then settles it. While
a hold is authorized its amount is *held*: the payer's available balance is
``posted - held`` and no other debit can spend it. Nothing is posted until capture.

Decisions:
- One capture per hold, full or partial (``0 < amount <= authorized``); the rest is released
  at once. Why: card and pay-later flows settle once, and a single capture keeps
  "held" exactly equal to the sum of authorized holds.
- Deadlines are strict: at or after ``expires_at`` a hold can neither be captured nor voided,
  only expired (by the sweeper, or lazily when touched). Why: the payer was promised the
  money back at the deadline, so the merchant cannot settle late.
- A hold is immutable; each transition returns a new one, so a refused transition leaves the
  caller's hold untouched.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from services.ledger.holds.errors import (
    CaptureExceedsHold,
    HoldExpired,
    HoldNotAuthorized,
    HoldNotExpired,
    InvalidHoldExpiry,
)
from services.ledger.instants import require_aware
from services.ledger.transactions.errors import DuplicateAccountPosting
from services.ledger.transactions.rules import Posting, check_positive, transfer


class HoldStatus(StrEnum):
    """Where a hold is in its life; only ``authorized`` is not final."""

    AUTHORIZED = "authorized"
    CAPTURED = "captured"
    VOIDED = "voided"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True, kw_only=True)
class Hold:
    """Funds reserved on ``payer`` for ``payee`` until ``expires_at``."""

    payer: UUID
    payee: UUID
    currency: str
    amount: int
    expires_at: datetime
    status: HoldStatus = HoldStatus.AUTHORIZED
    captured: int = 0

    @property
    def held(self) -> int:
        """What this hold currently subtracts from the payer's available balance."""
        return self.amount if self.status is HoldStatus.AUTHORIZED else 0

    @property
    def released(self) -> int:
        """What went back to the payer's available balance when the hold ended."""
        if self.status is HoldStatus.AUTHORIZED:
            return 0
        return self.amount - self.captured

    def is_past_deadline(self, now: datetime) -> bool:
        """True at or after the deadline."""
        return require_aware(now) >= self.expires_at


MAX_LIFETIME = timedelta(days=30)
"""The longest a hold may set funds aside (card networks keep pre-authorisations 7 to 30
days); without a bound, a hold is a way to freeze another member's money for good."""


def authorize(
    *,
    payer: UUID,
    payee: UUID,
    currency: str,
    amount: int,
    expires_at: datetime,
    now: datetime,
) -> Hold:
    """A new authorized hold; the caller must first check the payer's bounds for ``amount``.

    (``accounts.check_bounds(posted=..., held=..., delta=-amount, ...)``.)
    """
    check_positive(amount)
    if payer == payee:
        raise DuplicateAccountPosting("payer and payee are the same account")
    if require_aware(expires_at) <= require_aware(now):
        raise InvalidHoldExpiry("the deadline must be after now", expires_at=expires_at.isoformat())
    if require_aware(expires_at) > require_aware(now) + MAX_LIFETIME:
        raise InvalidHoldExpiry(
            f"a hold lasts at most {MAX_LIFETIME.days} days: funds set aside for longer are "
            "a payment, not an authorisation",
            expires_at=expires_at.isoformat(),
        )
    return Hold(payer=payer, payee=payee, currency=currency, amount=amount, expires_at=expires_at)


def _require_open(hold: Hold, now: datetime) -> None:
    if hold.status is not HoldStatus.AUTHORIZED:
        raise HoldNotAuthorized(f"hold is {hold.status.value}", status=hold.status.value)
    if hold.is_past_deadline(now):
        raise HoldExpired("the hold's deadline has passed", expires_at=hold.expires_at.isoformat())


def capture(hold: Hold, *, now: datetime, amount: int | None = None) -> Hold:
    """Settle ``amount`` (default: all) of an open hold; the remainder is released."""
    _require_open(hold, now)
    to_capture = hold.amount if amount is None else amount
    check_positive(to_capture)
    if to_capture > hold.amount:
        raise CaptureExceedsHold(
            f"capture {to_capture} above authorized {hold.amount}",
            authorized=hold.amount,
            requested=to_capture,
        )
    return replace(hold, status=HoldStatus.CAPTURED, captured=to_capture)


def void(hold: Hold, *, now: datetime) -> Hold:
    """Cancel an open hold, releasing all of it."""
    _require_open(hold, now)
    return replace(hold, status=HoldStatus.VOIDED)


def expire(hold: Hold, *, now: datetime) -> Hold:
    """Mark an authorized hold expired once its deadline has passed."""
    if hold.status is not HoldStatus.AUTHORIZED:
        raise HoldNotAuthorized(f"hold is {hold.status.value}", status=hold.status.value)
    if not hold.is_past_deadline(now):
        raise HoldNotExpired("the deadline has not passed", expires_at=hold.expires_at.isoformat())
    return replace(hold, status=HoldStatus.EXPIRED)


def capture_postings(hold: Hold) -> tuple[Posting, Posting]:
    """The transaction a captured hold posts: payer pays payee the captured amount."""
    if hold.status is not HoldStatus.CAPTURED:
        raise HoldNotAuthorized("only a captured hold has postings", status=hold.status.value)
    return transfer(
        currency=hold.currency, source=hold.payer, destination=hold.payee, amount=hold.captured
    )
