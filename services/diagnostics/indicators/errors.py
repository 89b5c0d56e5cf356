"""Errors of the indicators."""

from __future__ import annotations

from services.diagnostics.errors import DiagnosticsDomainError


class NoDataForYear(DiagnosticsDomainError):
    status, code, title = 404, "no-data-for-year", "No data for this territory and year"
