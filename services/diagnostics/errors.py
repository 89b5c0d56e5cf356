"""The error base of the diagnostics service, and the two errors every concept's rules raise.

Each concept declares its own errors in its ``errors.py`` on :class:`DiagnosticsDomainError`
(framework-free, on ``shared.errors.DomainError``), rendered as RFC 9457 problem+json by
the one shared handler. Two families are raised by the pure rules of several concepts:

* :class:`InvalidInput` (422): the data itself breaks a rule (a negative income, shares
  that do not add up, an unknown sector, a period that ends before it starts).
* :class:`UndefinedIndicator` (422): the data is valid but the indicator has no value
  (zero jobs, zero basic income, no money in circulation). The report turns these into a
  flagged indicator instead of an error, so no division by zero ever reaches a client.
"""

from __future__ import annotations

from typing import ClassVar

from shared.errors import DomainError


class DiagnosticsDomainError(DomainError):
    """Base of every diagnostics rule violation; carries the problem+json fields."""

    status: ClassVar[int] = 422
    code: ClassVar[str] = "diagnostics-rule-violated"
    title: ClassVar[str] = "Diagnostics rule violated"


class InvalidInput(DiagnosticsDomainError):
    """Input data breaks a rule (negative amount, unknown key, inconsistent totals)."""

    code, title = "invalid-diagnostics-input", "Invalid diagnostics input"


class UndefinedIndicator(DiagnosticsDomainError):
    """An indicator has no value for these data (its denominator is zero)."""

    code, title = "undefined-indicator", "Indicator undefined for these data"
