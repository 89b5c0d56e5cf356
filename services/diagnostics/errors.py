"""Every input the diagnostics domain refuses, and every indicator it cannot define.

The attributes (``status``, ``code``, ``title``, ``detail``, ``extra``) mirror
``shared.problems.Problem`` so the API can render them as RFC 9457 problem+json; the
domain does not subclass it because this package stays free of web frameworks.

Two families:

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
