"""Refusals of idempotency keys."""

from __future__ import annotations

from services.ledger.errors import LedgerDomainError


class IdempotencyKeyReused(LedgerDomainError):
    """The idempotency key was already used by this client with a different request."""

    status, code, title = 409, "idempotency-key-reused", "Idempotency key reused"
