"""The funding service's error base: every rule a funding concept refuses subclasses it.

Each concept declares its own errors next to it (``<concept>/errors.py``), one class per
rule with a stable ``code``. Status convention: 403 when the actor may not do this at all
(role, conflict of interest); 422 when the request itself is incomplete or malformed
whatever the state (missing reason, zero amount, ineligible project); 409 when a
well-formed request conflicts with the current state (illegal transition, envelope
exhausted, tranche not payable). A refused operation never changes anything: every rule
returns new values and raises before that.
"""

from __future__ import annotations

from typing import ClassVar

from shared.errors import DomainError


class FundingDomainError(DomainError):
    """Base of every funding rule violation; carries the problem+json fields."""

    status: ClassVar[int] = 422
    code: ClassVar[str] = "funding-rule-violated"
    title: ClassVar[str] = "Funding rule violated"
