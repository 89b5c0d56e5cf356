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


class InvalidPeriod(LedgerDomainError):
    """A date range or period is empty, reversed or not aligned on the currency's period."""

    code, title = "invalid-period", "Invalid period"
