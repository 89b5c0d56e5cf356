"""Refusals of holds (two-phase payments)."""

from __future__ import annotations

from services.ledger.errors import LedgerDomainError


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
