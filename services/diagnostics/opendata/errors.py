"""Refusals of the open data."""

from __future__ import annotations

from services.diagnostics.errors import DiagnosticsDomainError


class NotPublished(DiagnosticsDomainError):
    """The currency's operator has not opted in to open data (or opted out)."""

    status, code, title = 404, "opendata-not-published", "Currency not published as open data"
