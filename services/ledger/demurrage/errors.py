"""Refusals of demurrage runs."""

from __future__ import annotations

from services.ledger.errors import LedgerDomainError


class DemurrageNotConfigured(LedgerDomainError):
    """The currency has no demurrage rule, or the named fund cannot receive the charges."""

    code, title = "demurrage-not-configured", "Demurrage is not configured for this currency"
