"""Budget envelopes: commitment credits (AP) and payment credits (CP) of a programme's year.

Why: French public budgets separate the authority to *promise* money (autorisations de
programme, AP: a committee decision commits part of the envelope) from the authority to
*pay* it (crédits de paiement, CP). The invariants this module keeps, and the database must
also enforce, are::

    0 <= paid <= committed <= AP        paid <= CP

and, per grant, ``0 <= paid <= committed amount``. Every operation takes the current values
and returns new ones, or raises a typed error and changes nothing, so the store can lock the
envelope row, call one function, and write both rows back in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Final

from services.funding.programmes.errors import (
    DecommitExceedsUnpaidError,
    EnvelopeBelowUsageError,
    EnvelopeExceededError,
    InvalidAmountError,
    InvalidEnvelopeError,
    PaymentCreditsExceededError,
    PaymentExceedsCommitmentError,
)

BUDGET_COMMITTED_EVENT: Final = "proxima.funding.budget.committed.v1"
BUDGET_RELEASED_EVENT: Final = "proxima.funding.budget.released.v1"


def _is_cents(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True, slots=True)
class Envelope:
    """One programme's envelope for one year, in euro cents."""

    ap_cents: int
    cp_cents: int
    committed_cents: int = 0
    paid_cents: int = 0

    def __post_init__(self) -> None:
        figures = (self.ap_cents, self.cp_cents, self.committed_cents, self.paid_cents)
        if not all(_is_cents(f) and f >= 0 for f in figures):
            raise InvalidEnvelopeError("envelope figures must be non-negative integer cents")
        if not self.paid_cents <= self.committed_cents <= self.ap_cents:
            raise InvalidEnvelopeError("an envelope needs paid <= committed <= AP")
        if self.paid_cents > self.cp_cents:
            raise InvalidEnvelopeError("an envelope needs paid <= CP")

    @property
    def available_ap_cents(self) -> int:
        """What committees may still commit."""
        return self.ap_cents - self.committed_cents

    @property
    def available_cp_cents(self) -> int:
        """What may still be paid this year."""
        return self.cp_cents - self.paid_cents


@dataclass(frozen=True, slots=True)
class Commitment:
    """The part of an envelope committed to one application."""

    amount_cents: int
    paid_cents: int = 0

    def __post_init__(self) -> None:
        if not (_is_cents(self.amount_cents) and _is_cents(self.paid_cents)):
            raise InvalidEnvelopeError("commitment figures must be integer cents")
        if not 0 <= self.paid_cents <= self.amount_cents:
            raise InvalidEnvelopeError("a commitment needs 0 <= paid <= amount")

    @property
    def unpaid_cents(self) -> int:
        """What may still be paid, or released, on this commitment."""
        return self.amount_cents - self.paid_cents


def _require_positive(field: str, amount: int) -> None:
    if not _is_cents(amount) or amount <= 0:
        raise InvalidAmountError(field=field, value=amount)


def commit(envelope: Envelope, amount_cents: int) -> tuple[Envelope, Commitment]:
    """Commit ``amount_cents`` of AP to a new grant; refuse beyond the remaining envelope."""
    _require_positive("amount_cents", amount_cents)
    if amount_cents > envelope.available_ap_cents:
        raise EnvelopeExceededError(
            requested_cents=amount_cents, remaining_cents=envelope.available_ap_cents
        )
    updated = replace(envelope, committed_cents=envelope.committed_cents + amount_cents)
    return updated, Commitment(amount_cents=amount_cents)


def decommit(
    envelope: Envelope, commitment: Commitment, amount_cents: int
) -> tuple[Envelope, Commitment]:
    """Release unpaid money of a commitment back to the envelope (renunciation, closure)."""
    _require_positive("amount_cents", amount_cents)
    if amount_cents > commitment.unpaid_cents:
        raise DecommitExceedsUnpaidError(
            requested_cents=amount_cents, releasable_cents=commitment.unpaid_cents
        )
    return (
        replace(envelope, committed_cents=envelope.committed_cents - amount_cents),
        replace(commitment, amount_cents=commitment.amount_cents - amount_cents),
    )


def pay(
    envelope: Envelope, commitment: Commitment, amount_cents: int
) -> tuple[Envelope, Commitment]:
    """Record a payment on a commitment; refuse beyond the commitment or the CP left."""
    _require_positive("amount_cents", amount_cents)
    if amount_cents > commitment.unpaid_cents:
        raise PaymentExceedsCommitmentError(
            requested_cents=amount_cents, remaining_cents=commitment.unpaid_cents
        )
    if amount_cents > envelope.available_cp_cents:
        raise PaymentCreditsExceededError(
            requested_cents=amount_cents, remaining_cents=envelope.available_cp_cents
        )
    return (
        replace(envelope, paid_cents=envelope.paid_cents + amount_cents),
        replace(commitment, paid_cents=commitment.paid_cents + amount_cents),
    )


def resize(envelope: Envelope, *, ap_cents: int, cp_cents: int) -> Envelope:
    """Change AP and CP (a budget amendment); never below what is committed or paid."""
    if not (_is_cents(ap_cents) and _is_cents(cp_cents)) or ap_cents < 0 or cp_cents < 0:
        raise InvalidEnvelopeError("AP and CP must be non-negative integer cents")
    if ap_cents < envelope.committed_cents or cp_cents < envelope.paid_cents:
        raise EnvelopeBelowUsageError(
            f"AP {ap_cents} / CP {cp_cents} would fall below committed "
            f"{envelope.committed_cents} / paid {envelope.paid_cents}",
            committed_cents=envelope.committed_cents,
            paid_cents=envelope.paid_cents,
        )
    return replace(envelope, ap_cents=ap_cents, cp_cents=cp_cents)
