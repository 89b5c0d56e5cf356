"""The funding service's error base: every rule a funding concept refuses subclasses it,
one class per rule with a stable ``code``, declared in the concept's ``errors.py``
(docs/decisions/funding-one-error-class-per-rule.md)."""

from __future__ import annotations

from typing import ClassVar

from shared.errors import DomainError


class FundingDomainError(DomainError):
    """Base of every funding rule violation; carries the problem+json fields."""

    status: ClassVar[int] = 422
    code: ClassVar[str] = "funding-rule-violated"
    title: ClassVar[str] = "Funding rule violated"
